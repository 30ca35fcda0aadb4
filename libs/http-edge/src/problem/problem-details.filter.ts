import { Catch, HttpException, Inject, Logger, Optional } from '@nestjs/common';
import type { ArgumentsHost } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import { throwError } from 'rxjs';
import type { Observable } from 'rxjs';
import { PROBLEMS, PROBLEM_CONTENT_TYPE, ProblemException, problem } from './problem-details';
import type { ProblemDetails } from './problem-details';
import { AccessDenied, DENIED_ATTEMPTS, DeniedAttempts } from '../auth/authorization';

/** The parts of express's request/response the filter uses, without depending on express's types. */
interface HttpRequestLike {
  readonly originalUrl?: string;
  readonly url?: string;
  readonly method?: string;
  readonly route?: { readonly path?: unknown };
  readonly params?: Readonly<Record<string, unknown>>;
}

/** The route parameters as an object reference (`id=alice`), for a refusal that named no object itself. */
function paramsRef(params: HttpRequestLike['params']): string | undefined {
  const pairs = Object.entries(params ?? {})
    .filter(([, value]) => typeof value === 'string')
    .map(([name, value]) => `${name}=${String(value)}`);
  return pairs.length > 0 ? pairs.join(',') : undefined;
}
interface HttpResponseLike {
  readonly headersSent: boolean;
  status(code: number): HttpResponseLike;
  type(contentType: string): HttpResponseLike;
  send(body: string): unknown;
}

/** body-parser's errors carry an HTTP status and a `type` such as `entity.too.large`. */
function isBodyParserError(error: unknown): error is { status: number; type: string; message: string } {
  return error instanceof Error && typeof (error as { status?: unknown }).status === 'number' && typeof (error as { type?: unknown }).type === 'string';
}

export function toProblem(exception: unknown): ProblemDetails {
  if (exception instanceof ProblemException) return exception.problem;
  if (isBodyParserError(exception)) {
    if (exception.type === 'entity.too.large')
      return problem(PROBLEMS.payloadTooLarge, 'The request body exceeds the size limit', [{ field: '(body)', message: exception.message }]);
    if (exception.type === 'entity.parse.failed')
      return problem(PROBLEMS.invalidRequest, 'The request body is not valid JSON', [{ field: '(body)', message: exception.message }]);
    return problem(PROBLEMS.invalidRequest, exception.message, [{ field: '(body)', message: exception.message }]);
  }
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    if (status === 404) return problem(PROBLEMS.notFound, exception.message);
    if (status === 415) return problem(PROBLEMS.unsupportedMediaType, exception.message);
    if (status === 413) return problem(PROBLEMS.payloadTooLarge, exception.message, [{ field: '(body)', message: exception.message }]);
    if (status === 401) return problem(PROBLEMS.unauthenticated, exception.message);
    if (status === 403) return problem(PROBLEMS.forbidden, exception.message);
    if (status === 400) return problem(PROBLEMS.invalidRequest, exception.message, [{ field: '(body)', message: exception.message }]);
    if (status > 400 && status < 500) return { ...problem(PROBLEMS.invalidRequest, exception.message), status };
  }
  return problem(PROBLEMS.internal, 'An unexpected error occurred');
}

/**
 * Every error on a service's API becomes RFC 9457 problem details; unexpected errors are logged and answered
 * 500 without their message. The kit's health endpoints keep Nest's default rendering (their 503 body is what
 * readiness probes read). Register it globally (APP_FILTER) or on a controller (@UseFilters).
 */
@Catch()
export class ProblemDetailsFilter extends BaseExceptionFilter {
  private readonly logger = new Logger('problem-details');

  /** Where refused governance actions (AccessDenied) are recorded; a service without one only answers them. */
  constructor(@Optional() @Inject(DENIED_ATTEMPTS) private readonly deniedAttempts?: DeniedAttempts) {
    super();
  }

  override catch(exception: unknown, host: ArgumentsHost): void | Observable<never> {
    // An event handler's error goes back to the transport as it is: the messaging runtime classifies it (retry,
    // halt) and logs its real message. Rendering it as HTTP there would throw a TypeError that hides the cause.
    if (host.getType() === 'rpc') return throwError(() => exception);
    if (host.getType() !== 'http') {
      super.catch(exception, host);
      return;
    }
    const http = host.switchToHttp();
    const request = http.getRequest<HttpRequestLike>();
    const response = http.getResponse<HttpResponseLike>();
    const path = request.originalUrl ?? request.url ?? '';
    if (path.startsWith('/health')) {
      super.catch(exception, host);
      return;
    }
    if (exception instanceof AccessDenied && this.deniedAttempts !== undefined) {
      const route = typeof request.route?.path === 'string' ? request.route.path : (path.split('?')[0] ?? path);
      const operation = exception.attempt.operation ?? `${request.method ?? 'GET'} ${route}`;
      // Recorded in the background: the answer does not wait for the log, and a failure to record never changes it.
      const objectRef = exception.attempt.objectRef ?? paramsRef(request.params);
      void this.deniedAttempts.note({ ...exception.attempt, operation, ...(objectRef === undefined ? {} : { objectRef }) });
    }
    const details = toProblem(exception);
    if (details.status >= 500 && !(exception instanceof ProblemException))
      this.logger.error(exception instanceof Error ? (exception.stack ?? exception.message) : String(exception));
    if (response.headersSent) return;
    response.status(details.status).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(details));
  }
}
