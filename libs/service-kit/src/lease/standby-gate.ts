import type { IncomingMessage, ServerResponse } from 'node:http';
import { PROBLEM_CONTENT_TYPE, PROBLEM_TYPE_BASE } from '@grantline/http-edge';
import type { Lease } from '@grantline/messaging';

/** What a standby answers on `/health/ready` (and in every 503 it gives). */
export const STANDBY_REASON = 'standby: another instance holds the lease';

/** What the gate serves on `/metrics` while the app itself does not answer (the service's Prometheus registry). */
export interface StandbyMetrics {
  render(): Promise<string>;
  readonly contentType: string;
}

type Phase = { readonly kind: 'standby' | 'starting' | 'active' | 'stopping' } | { readonly kind: 'lost'; readonly reason: string };

/**
 * The HTTP face of a leased instance before (and after) it is the active one. Installed in front of everything
 * else, it answers by itself until the instance is active: `/health/live` 200 (the process is fine: do not
 * restart it), `/health/ready` 503 naming why (send it no traffic), `/metrics` 200 (a standby is a scrape target
 * like any other: a 503 there reads as a target down), anything else 503 problem+json. Once active
 * it steps aside, and the service's own routes and health checks answer; if the lease is lost it takes over again.
 */
export class StandbyGate {
  private phase: Phase = { kind: 'standby' };

  constructor(
    private readonly lease: Lease,
    private readonly metrics?: StandbyMetrics,
  ) {}

  get state(): Phase['kind'] {
    return this.phase.kind;
  }

  /** The lease is held; the state loads and the consumers join. */
  starting(): void {
    if (this.phase.kind === 'standby') this.phase = { kind: 'starting' };
  }

  open(): void {
    if (this.phase.kind === 'starting') this.phase = { kind: 'active' };
  }

  lost(reason: string): void {
    this.phase = { kind: 'lost', reason };
  }

  stopping(): void {
    if (this.phase.kind !== 'lost') this.phase = { kind: 'stopping' };
  }

  /** Why this instance takes no traffic now; undefined once active. */
  reason(): string | undefined {
    switch (this.phase.kind) {
      case 'active':
        return undefined;
      case 'standby': {
        const problem = this.lease.status().reason;
        return problem === undefined ? STANDBY_REASON : `${STANDBY_REASON} (campaign problem: ${problem})`;
      }
      case 'starting':
        return 'starting: this instance holds the lease and is loading its state';
      case 'stopping':
        return 'stopping';
      case 'lost':
        return `lease lost, consumers stopped: ${this.phase.reason}`;
    }
  }

  /** Connect-style middleware (Express calls it before the body parsers and Nest's routes). */
  readonly middleware = (request: IncomingMessage, response: ServerResponse, next: (error?: unknown) => void): void => {
    const reason = this.reason();
    if (reason === undefined) {
      next();
      return;
    }
    const path = (request.url ?? '/').split('?')[0];
    if (path === '/health/live') {
      send(response, 200, 'application/json', { status: 'ok', info: {}, error: {}, details: {} });
      return;
    }
    if (path === '/metrics' && this.metrics !== undefined && request.method === 'GET') {
      const { contentType } = this.metrics;
      this.metrics.render().then(
        (text) => {
          response.writeHead(200, { 'content-type': contentType, 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
          response.end(text);
        },
        (error: unknown) => next(error),
      );
      return;
    }
    const indicator = { lease: { status: 'down', detail: reason, ...this.lease.status() } };
    if (path === '/health/ready') {
      send(response, 503, 'application/json', { status: 'error', info: {}, error: indicator, details: indicator });
      return;
    }
    send(response, 503, PROBLEM_CONTENT_TYPE, {
      type: `${PROBLEM_TYPE_BASE}standby`,
      title: 'Instance not active',
      status: 503,
      detail: `${reason}; send the request to the active instance`,
    });
  };
}

function send(response: ServerResponse, status: number, contentType: string, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': `${contentType}; charset=utf-8`, 'content-length': Buffer.byteLength(text), 'retry-after': '5' });
  response.end(text);
}
