import { Inject, Injectable, Logger } from '@nestjs/common';
import type { OnApplicationBootstrap } from '@nestjs/common';
import { CatalogPublished } from '@grantline/contracts';
import type { AccessPackage, CatalogPublishedData, Entitlement } from '@grantline/contracts';
import { deterministicEventId } from '@grantline/messaging';
import { IntakePublisher } from '../publishing/intake-publisher';

export const LOADED_CATALOG = Symbol('LOADED_CATALOG');

/** The catalogue loaded at start; requests are checked against it, and it is published for every other service. */
@Injectable()
export class CatalogService implements OnApplicationBootstrap {
  private readonly logger = new Logger('catalog');
  private readonly entitlements: ReadonlyMap<string, Entitlement>;
  private readonly packages: ReadonlyMap<string, AccessPackage>;

  constructor(
    @Inject(LOADED_CATALOG) readonly catalog: CatalogPublishedData,
    private readonly publisher: IntakePublisher,
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

  async onApplicationBootstrap(): Promise<void> {
    await this.publisher.publish({
      def: CatalogPublished,
      data: this.catalog,
      id: this.eventId(),
      subject: `catalog-${this.catalog.catalogVersion}`,
      correlationId: `catalog-${this.catalog.digest}`,
      actor: { kind: 'service', id: 'intake' },
      time: new Date().toISOString(),
    });
    this.logger.log(`published catalogue v${this.catalog.catalogVersion} (${this.catalog.entitlements.length} entitlements, digest ${this.catalog.digest.slice(0, 12)})`);
  }
}
