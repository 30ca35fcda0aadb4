import { Inject, Injectable } from '@nestjs/common';
import { context, propagation } from '@opentelemetry/api';
import { createProxyMiddleware } from 'http-proxy-middleware';
import type { Plugin, RequestHandler } from 'http-proxy-middleware';
import type { ClientRequest, IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { Counter, Histogram } from 'prom-client';
import { PROBLEM_CONTENT_TYPE, problem } from '@grantline/http-edge';
import type { ProblemType } from '@grantline/http-edge';
import { JsonLogger, REQUEST_ID_HEADER, ServiceMetrics } from '@grantline/service-kit';
import { GATEWAY_CONFIG } from '../config/gateway-config';
import type { GatewayConfig } from '../config/gateway-config';
import { GATEWAY_PROBLEMS } from '../edge/edge.guards';
import type { Route, UpstreamService } from '../routing/route-table';

/** Headers the gateway sets on the forwarded request, computed before the proxy runs. */
interface ForwardedRequest extends IncomingMessage {
  gatewayForward?: { readonly requestId: string | undefined; readonly trace: Readonly<Record<string, string>> };
}

/** Errors of a service that never answered: it is down or not there yet (retry later), not a broken gateway. */
const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);
const UPSTREAM_TIMEOUT = 'GATEWAY_UPSTREAM_TIMEOUT';
/** Seconds a client should wait before trying an unreachable service again. */
const RETRY_UNREACHABLE_AFTER_S = 5;

function problemOf(error: Error & { code?: string }): { type: ProblemType; detail: string } {
  if (error.code === UPSTREAM_TIMEOUT) return { type: GATEWAY_PROBLEMS.upstreamTimeout, detail: error.message };
  if (error.code !== undefined && UNREACHABLE.has(error.code))
    return { type: GATEWAY_PROBLEMS.upstreamUnavailable, detail: `The service behind this path is not reachable (${error.code})` };
  return { type: GATEWAY_PROBLEMS.badGateway, detail: `The service behind this path failed to answer (${error.code ?? 'no response'})` };
}

/**
 * Forwards a request to the service its route names (http-proxy-middleware, one proxy per service): path and query
 * unchanged, `X-Forwarded-*` added, the request id and the trace context of this hop set. A service that does not
 * answer is answered as problem+json — 503 (unreachable, with `Retry-After`), 504 (no answer within
 * `GATEWAY_UPSTREAM_TIMEOUT_MS`) or 502 (the connection broke) — never left hanging.
 */
@Injectable()
export class UpstreamProxy {
  private readonly proxies: Map<UpstreamService, RequestHandler>;
  private readonly logger: JsonLogger;
  private readonly requests: Counter<'upstream' | 'status'>;
  private readonly seconds: Histogram<'upstream'>;

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    @Inject(JsonLogger) logger: JsonLogger,
    @Inject(ServiceMetrics) metrics: ServiceMetrics,
  ) {
    this.logger = logger.withContext('proxy');
    this.requests = new Counter({
      name: 'grantline_gateway_requests_total',
      help: 'Requests the gateway forwarded, per upstream service and answer status (502-504: the gateway answered for it)',
      labelNames: ['upstream', 'status'],
      registers: [metrics.registry],
    });
    this.seconds = new Histogram({
      name: 'grantline_gateway_upstream_duration_seconds',
      help: 'Time from forwarding a request until its answer was sent, per upstream service',
      labelNames: ['upstream'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [metrics.registry],
    });
    this.proxies = new Map(
      (Object.entries(config.upstreams) as [UpstreamService, string][]).map(([service, target]) => [
        service,
        createProxyMiddleware<IncomingMessage, ServerResponse>({
          target,
          changeOrigin: true,
          xfwd: true,
          // The default plugins answer errors as text/plain and log to the console: ours answer problem+json.
          ejectPlugins: true,
          plugins: [this.plugin(service)],
        }),
      ]),
    );
  }

  /** Resolves once the request is handed to the service (or answered for it); the answer streams back. */
  async forward(route: Route, request: IncomingMessage, response: ServerResponse): Promise<void> {
    const proxy = this.proxies.get(route.service);
    if (proxy === undefined) throw new Error(`no upstream configured for ${route.service}`);
    const requestId = response.getHeader(REQUEST_ID_HEADER);
    // This hop's span (the request log's server span) as the parent of the service's: one trace across the gateway.
    const trace: Record<string, string> = {};
    propagation.inject(context.active(), trace);
    (request as ForwardedRequest).gatewayForward = { requestId: typeof requestId === 'string' ? requestId : undefined, trace };
    const started = process.hrtime.bigint();
    response.once('finish', () => {
      this.requests.inc({ upstream: route.service, status: String(response.statusCode) });
      this.seconds.observe({ upstream: route.service }, Number(process.hrtime.bigint() - started) / 1e9);
    });
    // An error is answered by the plugin; the middleware also hands it to `next`, which has nothing left to do.
    await proxy(request, response, () => undefined);
  }

  private plugin(service: UpstreamService): Plugin<IncomingMessage, ServerResponse> {
    return (server) => {
      server.on('proxyReq', (proxyRequest: ClientRequest, request: IncomingMessage) => {
        const forward = (request as ForwardedRequest).gatewayForward;
        if (forward?.requestId !== undefined) proxyRequest.setHeader(REQUEST_ID_HEADER, forward.requestId);
        for (const [name, value] of Object.entries(forward?.trace ?? {})) proxyRequest.setHeader(name, value);
        proxyRequest.setTimeout(this.config.upstreamTimeoutMs, () => {
          const timeout = Object.assign(new Error(`The service behind this path did not answer within ${this.config.upstreamTimeoutMs} ms`), {
            code: UPSTREAM_TIMEOUT,
          });
          proxyRequest.destroy(timeout);
        });
      });
      server.on('error', (error: Error & { code?: string }, request?: IncomingMessage, response?: ServerResponse | Socket) => {
        if (request === undefined || response === undefined) return;
        if (!('writeHead' in response)) {
          response.destroy();
          return;
        }
        const { type, detail } = problemOf(error);
        this.logger.warn(`${service} did not answer: ${detail}`, { upstream: service, code: error.code, path: (request.url ?? '').split('?')[0] });
        if (response.headersSent) {
          // Part of the answer is already on its way: cut it, so the client sees a broken answer, not a short one.
          response.destroy();
          return;
        }
        if (response.writableEnded) return;
        if (type === GATEWAY_PROBLEMS.upstreamUnavailable) response.setHeader('Retry-After', String(RETRY_UNREACHABLE_AFTER_S));
        response.statusCode = type.status;
        response.setHeader('Content-Type', PROBLEM_CONTENT_TYPE);
        response.end(JSON.stringify(problem(type, detail)));
      });
    };
  }
}
