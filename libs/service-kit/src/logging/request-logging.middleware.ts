import { Inject, Injectable } from '@nestjs/common';
import type { NestMiddleware } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { JsonLogger } from './json-logger';

/**
 * One record per HTTP request once the response is finished (or the client went away): method,
 * path (no query string: it may carry identifiers we do not want in logs), status and duration.
 * Health probes are polled every few seconds by orchestrators, so they log at debug.
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
        ...(response.writableFinished ? {} : { aborted: true }),
      };
      const message = `${method} ${path} ${response.statusCode}`;
      if (path.startsWith('/health/')) this.logger.debug(message, fields);
      else if (response.statusCode >= 500) this.logger.error(message, fields);
      else this.logger.info(message, fields);
    };
    response.once('finish', done);
    response.once('close', done);
    next();
  }
}
