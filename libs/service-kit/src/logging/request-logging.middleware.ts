import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, context, defaultTextMapGetter, propagation, trace } from '@opentelemetry/api';
import type { NestMiddleware } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { JsonLogger } from './json-logger';

const tracer = trace.getTracer('@grantline/service-kit');

/** A caller's (or a gateway's) request id is kept when it is short and plain; anything else is replaced. */
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
export const REQUEST_ID_HEADER = 'x-request-id';

/** The request id of this request: the caller's `X-Request-Id` when usable, else a new one. */
export function requestIdOf(request: IncomingMessage): string {
  const given = request.headers[REQUEST_ID_HEADER];
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
}

/**
 * One record per HTTP request once the response is finished (or the client went away): method,
 * path (no query string: it may carry identifiers we do not want in logs), status, duration, the request id (echoed
 * in `X-Request-Id`, so a caller can quote it) and the authenticated principal's subject when there was one.
 * Health probes and metric scrapes come every few seconds, so they log at debug.
 */
@Injectable()
export class RequestLoggingMiddleware implements NestMiddleware<IncomingMessage, ServerResponse> {
  private readonly logger: JsonLogger;

  constructor(@Inject(JsonLogger) logger: JsonLogger) {
    this.logger = logger.withContext('http');
  }

  use(request: IncomingMessage, response: ServerResponse, next: () => void): void {
    const started = process.hrtime.bigint();
    const method = request.method ?? '?';
    // Express rewrites `url` below a mount point; `originalUrl` is what the client asked for.
    const url = (request as IncomingMessage & { originalUrl?: string }).originalUrl ?? request.url ?? '/';
    const path = url.split('?')[0] ?? '/';
    const requestId = requestIdOf(request);
    response.setHeader(REQUEST_ID_HEADER, requestId);
    // A server span continuing the caller's W3C trace (`traceparent`): what this request publishes carries it on.
    const parent = propagation.extract(ROOT_CONTEXT, request.headers, defaultTextMapGetter);
    const span = tracer.startSpan(`${method} ${path}`, { kind: SpanKind.SERVER, attributes: { 'http.request.method': method, 'url.path': path } }, parent);
    const traceId = trace.isSpanContextValid(span.spanContext()) ? span.spanContext().traceId : undefined;
    let logged = false;
    const done = (): void => {
      if (logged) return;
      logged = true;
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const fields = {
        method,
        path,
        status: response.statusCode,
        ms: Math.round(ms * 10) / 10,
        requestId,
        ...(traceId === undefined ? {} : { traceId }),
        // Set by the bearer guard once the token verified; absent for public routes and refused tokens.
        ...principalOf(request),
        ...(response.writableFinished ? {} : { aborted: true }),
      };
      span.setAttribute('http.response.status_code', response.statusCode);
      if (response.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
      const message = `${method} ${path} ${response.statusCode}`;
      if (path.startsWith('/health/') || path === '/metrics') this.logger.debug(message, fields);
      else if (response.statusCode >= 500) this.logger.error(message, fields);
      else this.logger.info(message, fields);
    };
    response.once('finish', done);
    response.once('close', done);
    context.with(trace.setSpan(parent, span), next);
  }
}

function principalOf(request: IncomingMessage): { principal?: string } {
  const subject = (request as IncomingMessage & { principal?: { subject?: unknown } }).principal?.subject;
  return typeof subject === 'string' ? { principal: subject } : {};
}
