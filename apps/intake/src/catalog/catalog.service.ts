import { Inject, Injectable, Logger } from '@nestjs/common';
import type { OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { CatalogPublished } from '@grantline/contracts';
import type { AccessPackage, CatalogPublishedData, Entitlement } from '@grantline/contracts';
import type { Clock } from '@grantline/decider';
import { deterministicEventId } from '@grantline/messaging';
import { CLOCK } from '@grantline/service-kit';
import { IntakePublisher } from '../publishing/intake-publisher';

export const LOADED_CATALOG = Symbol('LOADED_CATALOG');

/** The catalogue loaded at start; requests are checked against it, and it is published for every other service. */
@Injectable()
export class CatalogService implements OnApplicationBootstrap, OnApplicationShutdown {
  private retryTimer: NodeJS.Timeout | undefined;
  private published = false;
  private readonly logger = new Logger('catalog');
  private readonly entitlements: ReadonlyMap<string, Entitlement>;
  private readonly packages: ReadonlyMap<string, AccessPackage>;

  constructor(
    @Inject(LOADED_CATALOG) readonly catalog: CatalogPublishedData,
    private readonly publisher: IntakePublisher,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {
    this.entitlements = new Map(catalog.entitlements.map((e) => [e.entitlementId, e]));
    this.packages = new Map(catalog.accessPackages.map((p) => [p.accessPackageId, p]));
  }

  entitlement(id: string): Entitlement | undefined {
    return this.entitlements.get(id);
  }

  accessPackage(id: string): AccessPackage | undefined {
    return this.packages.get(id);
  }

  /** The same catalogue always has the same event id: a restart republishes a duplicate that consumers drop. */
  eventId(): string {
    return deterministicEventId('iga.catalog.published', this.catalog.digest);
  }

  /** Published once before the service reports ready; if Kafka refuses, retried in the background until it takes. */
  async onApplicationBootstrap(): Promise<void> {
    await this.publishWithRetry(1);
  }

  onApplicationShutdown(): void {
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  /** True once the catalogue is on the log. */
  isPublished(): boolean {
    return this.published;
  }

  private async publishWithRetry(attempt: number): Promise<void> {
    try {
      await this.publisher.publish({
        def: CatalogPublished,
        data: this.catalog,
        id: this.eventId(),
        subject: `catalog-${this.catalog.catalogVersion}`,
        correlationId: `catalog-${this.catalog.digest}`,
        actor: { kind: 'service', id: 'intake' },
        time: this.clock.now().toISOString(),
      });
      this.published = true;
      this.logger.log(`published catalogue v${this.catalog.catalogVersion} (${this.catalog.entitlements.length} entitlements, digest ${this.catalog.digest.slice(0, 12)})`);
    } catch {
      // Requests are refused with 503 meanwhile anyway; the catalogue follows as soon as Kafka is back.
      const delayMs = Math.min(30_000, 1_000 * 2 ** Math.min(attempt, 5));
      this.logger.error(`catalogue not published (attempt ${attempt}); retrying in ${delayMs} ms`);
      this.retryTimer = setTimeout(() => void this.publishWithRetry(attempt + 1), delayMs);
      this.retryTimer.unref();
    }
  }
}
