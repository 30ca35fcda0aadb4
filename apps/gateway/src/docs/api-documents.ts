import { Inject, Injectable } from '@nestjs/common';
import { buildAsyncApiDocument } from '@grantline/asyncapi';
import type { AsyncApiDocument } from '@grantline/asyncapi';
import { JsonLogger } from '@grantline/service-kit';
import { GATEWAY_CONFIG } from '../config/gateway-config';
import type { GatewayConfig } from '../config/gateway-config';
import { RouteTable } from '../routing/route-table';
import { mergeOpenApi } from './openapi-merge';
import type { MergeResult, OpenApiDocument } from './openapi-merge';

/** How long one service may take to hand over its document before the merge goes on without it. */
const FETCH_TIMEOUT_MS = 5_000;

/**
 * The origin's two published interfaces. The OpenAPI document is merged from each service's own `/docs-json`, fetched
 * when asked (and kept `GATEWAY_OPENAPI_CACHE_MS`) rather than generated here: the gateway cannot import the apps
 * (apps never depend on apps), and services stay separately deployable — a service upgraded behind the gateway is
 * documented as it is deployed, without a new gateway. A service that does not answer is left out and named in
 * `x-grantline-unavailable`, and that document is not kept. The AsyncAPI document is generated once from the contracts.
 */
@Injectable()
export class ApiDocuments {
  private own: OpenApiDocument = { openapi: '3.0.0', info: {}, paths: {} };
  private cached: { readonly result: MergeResult; readonly at: number } | undefined;
  private pending: Promise<MergeResult> | undefined;
  private asyncApi: AsyncApiDocument | undefined;
  private readonly logger: JsonLogger;

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    @Inject(RouteTable) private readonly routes: RouteTable,
    @Inject(JsonLogger) logger: JsonLogger,
  ) {
    this.logger = logger.withContext('docs');
  }

  /** The gateway's own operations, documented by Nest from its controllers at start. */
  setOwnDocument(document: OpenApiDocument): void {
    this.own = document;
    this.cached = undefined;
  }

  async openApi(): Promise<MergeResult> {
    const cached = this.cached;
    if (cached !== undefined && Date.now() - cached.at < this.config.openApiCacheMs) return cached.result;
    // Concurrent callers share one round of fetches.
    this.pending ??= this.merge().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  asyncApiDocument(): AsyncApiDocument {
    this.asyncApi ??= buildAsyncApiDocument();
    return this.asyncApi;
  }

  private async merge(): Promise<MergeResult> {
    const services = this.routes.services();
    const documents = await Promise.all(services.map((service) => this.fetchDocument(service, this.config.upstreams[service])));
    const result = mergeOpenApi({ own: this.own, services: Object.fromEntries(services.map((service, i) => [service, documents[i]])) }, this.routes);
    if (result.unrouted.length > 0) this.logger.warn('services document operations under paths no route sends anywhere', { unrouted: result.unrouted });
    if (result.unavailable.length === 0) this.cached = { result, at: Date.now() };
    return result;
  }

  private async fetchDocument(service: string, baseUrl: string): Promise<OpenApiDocument | undefined> {
    try {
      const response = await fetch(`${baseUrl}/docs-json`, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS), headers: { accept: 'application/json' } });
      if (!response.ok) throw new Error(`answered ${response.status}`);
      const document = (await response.json()) as Partial<OpenApiDocument>;
      if (typeof document.paths !== 'object' || document.paths === null) throw new Error('answered a document without paths');
      return document as OpenApiDocument;
    } catch (error) {
      this.logger.debug(`no OpenAPI document from ${service}`, { upstream: service, reason: error instanceof Error ? error.message : String(error) });
      return undefined;
    }
  }
}
