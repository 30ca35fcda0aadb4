import { z } from 'zod';
import {
  EnvironmentSchema,
  IdSchema,
  IsoDurationSchema,
  LIMITS,
  NameSchema,
  PrivilegeSchema,
  SensitivitySchema,
  Sha256HexSchema,
  ShortTextSchema,
  idListSchema,
} from '../common/primitives.schema';
import { CredentialTypeSchema } from '../policy/decision-recorded.schema';
import { defineEvent } from '../registry/event-definition';
import { TOPICS } from '../topics/topic.catalogue';

const SystemV2Shape = {
  systemId: IdSchema,
  name: NameSchema,
  /** The connector that provisions this system; its commands go to `iga.connectors.<connectorId>.commands.v1`. */
  connectorId: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,99}$/),
  ownerId: IdSchema,
  environment: EnvironmentSchema,
};
/** A system as catalogues v1 and v2 describe it (frozen). */
export const CatalogSystemV2Schema = z.strictObject(SystemV2Shape);

export const CatalogSystemSchema = z.strictObject({
  ...SystemV2Shape,
  /**
   * A leaver's account in this system is deactivated (SCIM: `active: false`) beside the revocation of its grants. Set
   * it only where the system's connector declares the `deactivateAccount` capability: provisioning asks that connector
   * once per leaver who has (or had) a grant here, and a connector without it answers a terminal failure (an alert).
   */
  deactivateLeaverAccounts: z.boolean().optional(),
});
export type CatalogSystem = z.infer<typeof CatalogSystemSchema>;

const EntitlementV1Shape = {
  entitlementId: IdSchema,
  systemId: IdSchema,
  name: NameSchema,
  description: ShortTextSchema.optional(),
  /** How the connector names it in the target system (role name, group DN, ...). */
  externalRef: z.string().min(1).max(LIMITS.shortText),
  sensitivity: SensitivitySchema,
  environment: EnvironmentSchema,
  ownerId: IdSchema,
  privileges: z.array(PrivilegeSchema).min(1).max(3),
  /** No grant of this entitlement may outlive this, whatever the request or policy says. */
  maxDuration: IsoDurationSchema,
  requestable: z.boolean().default(true),
};
export const EntitlementV1Schema = z.strictObject(EntitlementV1Shape);

export const EntitlementSchema = z.strictObject({
  ...EntitlementV1Shape,
  /**
   * Grants of this entitlement are delivered as a credential of this kind, minted for the grant and dying with it
   * (a JWT for `short_lived_token`, a client certificate for `x509_certificate`, a login with VALID UNTIL for
   * `database_role`). The kind is a property of what the system hands out; its lifetime is the grant's.
   */
  credential: z.strictObject({ type: CredentialTypeSchema.exclude(['none']) }).optional(),
});
export type Entitlement = z.infer<typeof EntitlementSchema>;

export const AccessPackageSchema = z.strictObject({
  accessPackageId: IdSchema,
  name: NameSchema,
  description: ShortTextSchema.optional(),
  ownerId: IdSchema,
  entitlementIds: idListSchema({ min: 1, max: 50 }),
});
export type AccessPackage = z.infer<typeof AccessPackageSchema>;

function catalogSchema<TEntitlement extends z.ZodType<{ entitlementId: string; systemId: string }>, TSystem extends z.ZodType<{ systemId: string }>>(
  entitlement: TEntitlement,
  system: TSystem,
) {
  return z
    .strictObject({
      catalogVersion: z.number().int().positive(),
      /** sha256 of the canonical catalogue document; decisions record it to be reproducible. */
      digest: Sha256HexSchema,
      systems: z.array(system).max(1000),
      entitlements: z.array(entitlement).max(10_000),
      accessPackages: z.array(AccessPackageSchema).max(1000).default([]),
    })
    .superRefine(noDanglingReferences);
}

function noDanglingReferences(
  catalog: { systems: { systemId: string }[]; entitlements: { entitlementId: string; systemId: string }[]; accessPackages: AccessPackage[] },
  ctx: z.RefinementCtx,
): void {
  // Dangling references would make every later decision on them fail; reject the catalogue instead.
    const systems = new Set(catalog.systems.map((system) => system.systemId));
    const entitlements = new Set(catalog.entitlements.map((entitlement) => entitlement.entitlementId));
    catalog.entitlements.forEach((entitlement, index) => {
      if (!systems.has(entitlement.systemId)) {
        ctx.addIssue({ code: 'custom', path: ['entitlements', index, 'systemId'], message: `Unknown system: ${entitlement.systemId}` });
      }
    });
    catalog.accessPackages.forEach((pkg, index) => {
      pkg.entitlementIds.forEach((id, position) => {
        if (!entitlements.has(id)) {
          ctx.addIssue({ code: 'custom', path: ['accessPackages', index, 'entitlementIds', position], message: `Unknown entitlement: ${id}` });
        }
      });
    });
    if (entitlements.size !== catalog.entitlements.length) {
      ctx.addIssue({ code: 'custom', path: ['entitlements'], message: 'Invalid catalogue: duplicate entitlement ids' });
    }
}

export const CatalogPublishedV1DataSchema = catalogSchema(EntitlementV1Schema, CatalogSystemV2Schema);
export const CatalogPublishedV2DataSchema = catalogSchema(EntitlementSchema, CatalogSystemV2Schema);
export type CatalogPublishedV2Data = z.infer<typeof CatalogPublishedV2DataSchema>;
export const CatalogPublishedDataSchema = catalogSchema(EntitlementSchema, CatalogSystemSchema);
export type CatalogPublishedData = z.infer<typeof CatalogPublishedDataSchema>;

export const CatalogPublishedV1 = defineEvent('iga.catalog.published', 1, TOPICS.catalog, CatalogPublishedV1DataSchema);
/** v2: an entitlement may name the credential its grants are delivered as. */
export const CatalogPublishedV2 = defineEvent('iga.catalog.published', 2, TOPICS.catalog, CatalogPublishedV2DataSchema);
/** v3: a system may say that leavers' accounts in it are deactivated (docs/adr/0036). */
export const CatalogPublishedV3 = defineEvent('iga.catalog.published', 3, TOPICS.catalog, CatalogPublishedDataSchema);
/** The current version: what intake publishes. */
export const CatalogPublished = CatalogPublishedV3;

/** v1 → v2: every v1 catalogue is a valid v2 catalogue (v2 only adds the optional `credential`). */
export function upcastCatalogPublishedV1ToV2(previous: unknown): CatalogPublishedV2Data {
  return CatalogPublishedV1DataSchema.parse(previous);
}

/** v2 → v3: every v2 catalogue is a valid v3 catalogue (v3 only adds the optional `deactivateLeaverAccounts`). */
export function upcastCatalogPublishedV2ToV3(previous: unknown): CatalogPublishedData {
  return CatalogPublishedV2DataSchema.parse(previous);
}
