import { Catch, HttpException, Inject, Injectable, Logger, Optional } from '@nestjs/common';
import type { ArgumentsHost, ExceptionFilter } from '@nestjs/common';
import { AccessDenied, DENIED_ATTEMPTS, DeniedAttempts, ProblemException } from '@grantline/http-edge';
import { SCIM_CONTENT_TYPE } from './scim-attributes.schema';
import { ScimError, scimErrorBody } from './scim.error';
import type { ScimErrorBody } from './scim.error';

interface HttpRequestLike {
  readonly originalUrl?: string;
  readonly url?: string;
  readonly method?: string;
  readonly route?: { readonly path?: unknown };
}

export interface HttpResponseLike {
  readonly headersSent: boolean;
  status(code: number): HttpResponseLike;
  setHeader(name: string, value: string): unknown;
  send(body: string): unknown;
}

/** Body-parser failures carry an HTTP status and a `type` such as `entity.too.large`. */
function isBodyParserError(error: unknown): error is { status: number; type: string; message: string } {
  return error instanceof Error && typeof (error as { status?: unknown }).status === 'number' && typeof (error as { type?: unknown }).type === 'string';
}

/** Any error on a SCIM route, as RFC 7644 §3.12 describes it. */
export function toScimError(exception: unknown): ScimErrorBody {
  if (exception instanceof ScimError) return scimErrorBody(exception.status, exception.detail, exception.scimType);
  // 401 from BearerAuthGuard, 403/404 AccessDenied, 503 when Kafka did not acknowledge: the problem's detail, SCIM-shaped.
  if (exception instanceof ProblemException) return scimErrorBody(exception.problem.status, exception.problem.detail);
  if (isBodyParserError(exception)) {
    if (exception.type === 'entity.too.large') return scimErrorBody(413, 'The request body exceeds the size limit', 'tooMany');
    return scimErrorBody(400, `The request body is not valid JSON: ${exception.message}`, 'invalidSyntax');
  }
  if (exception instanceof HttpException) return scimErrorBody(exception.getStatus(), exception.message);
  return scimErrorBody(500, 'An unexpected error occurred');
}

/**
 * Answers errors on the SCIM controllers in SCIM form (`application/scim+json`) instead of the intake's global
 * problem+json: identity providers parse `scimType` and `detail`. A refused governance action (AccessDenied, e.g. a
 * token without the identity-source role) is still recorded, as ProblemDetailsFilter records it.
 */
@Catch()
@Injectable()
export class ScimErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('scim');

  constructor(@Optional() @Inject(DENIED_ATTEMPTS) private readonly deniedAttempts?: DeniedAttempts) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<HttpRequestLike>();
    const response = http.getResponse<HttpResponseLike>();
    if (exception instanceof AccessDenied && this.deniedAttempts !== undefined) {
      const path = request.originalUrl ?? request.url ?? '';
      const route = typeof request.route?.path === 'string' ? request.route.path : (path.split('?')[0] ?? path);
      const operation = exception.attempt.operation ?? `${request.method ?? 'GET'} ${route}`;
      // In the background: the answer does not wait for the log, and a failure to record never changes it.
      void this.deniedAttempts.note({ ...exception.attempt, operation });
    }
    const body = toScimError(exception);
    if (Number(body.status) >= 500 && !(exception instanceof ProblemException)) {
      this.logger.error(exception instanceof Error ? (exception.stack ?? exception.message) : String(exception));
    }
    if (response.headersSent) return;
    writeScimError(response, body);
  }
}

export function writeScimError(response: Pick<HttpResponseLike, 'status' | 'setHeader' | 'send'>, body: ScimErrorBody): void {
  response.setHeader('Content-Type', SCIM_CONTENT_TYPE);
  response.status(Number(body.status)).send(JSON.stringify(body));
}
