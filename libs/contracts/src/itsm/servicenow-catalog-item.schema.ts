import { z } from 'zod';
import { IdentityKindSchema, LIMITS } from '../common/primitives.schema';
import { withoutSecrets } from '../common/no-secrets.schema';
import { ContractViolationError, toContractIssues } from '../errors/contract-violation.error';
import { defineEvent } from '../registry/event-definition';
import { TOPICS } from '../topics/topic.catalogue';
import { ItsmRequestReceivedDataSchema } from './itsm.schema';
import type { ItsmRequestReceivedData } from './itsm.schema';

/** A reference field: a plain value, or the `{ value, display_value, link }` form of `sysparm_display_value=all`. */
const ServiceNowReferenceSchema = z.union([
  z.string().min(1).max(LIMITS.id),
  z.looseObject({ value: z.string().min(1).max(LIMITS.id), display_value: z.string().max(LIMITS.name).optional(), link: z.string().optional() }),
]);
export type ServiceNowReference = z.infer<typeof ServiceNowReferenceSchema>;

/** ServiceNow's `YYYY-MM-DD HH:mm:ss`, in UTC as the Table API returns it. */
const ServiceNowDateTimeSchema = z.string().regex(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/, { message: 'Invalid date: expected YYYY-MM-DD HH:mm:ss (UTC)' });

/**
 * The variables of the Grantline catalog item. ServiceNow sends every variable as a string: list collectors are
 * comma-separated, check boxes are 'true'/'false'.
 */
export const ServiceNowVariablesSchema = z.looseObject({
  beneficiary: z.string().max(LIMITS.id).optional(),
  beneficiary_kind: z.union([IdentityKindSchema, z.literal('')]).optional(),
  entitlements: z
    .string()
    .max(LIMITS.id * 50)
    .optional(),
  access_package: z.string().max(LIMITS.id).optional(),
  justification: z.string().max(LIMITS.justification).optional(),
  /** ISO-8601 (`PT8H`, `P30D`) or a whole number of hours. */
  duration: z.string().max(64).optional(),
  end_date: z.union([ServiceNowDateTimeSchema, z.literal('')]).optional(),
  emergency: z.enum(['true', 'false', '']).optional(),
  incident_number: z.string().max(LIMITS.id).optional(),
});

/** A requested item (`sc_req_item`) record from ServiceNow. Unknown fields are kept: ServiceNow adds many. */
export const ServiceNowCatalogItemSchema = z.looseObject({
  sys_id: z.string().regex(/^[0-9a-f]{32}$/, { message: 'Invalid sys_id: expected 32 lowercase hex chars' }),
  number: z.string().regex(/^[A-Z]{2,8}\d{4,12}$/, { message: 'Invalid number: expected e.g. RITM0010001' }),
  cat_item: ServiceNowReferenceSchema.optional(),
  requested_for: ServiceNowReferenceSchema,
  opened_by: ServiceNowReferenceSchema,
  short_description: z.string().max(LIMITS.shortText).optional(),
  sys_created_on: ServiceNowDateTimeSchema.optional(),
  variables: ServiceNowVariablesSchema,
});
export type ServiceNowCatalogItem = z.infer<typeof ServiceNowCatalogItemSchema>;

/**
 * A ServiceNow requested item, published as-is on the inbound topic by the bridge in front of ServiceNow (its
 * outbound REST message wraps the `sc_req_item` record in a CloudEvent of this type). The intake maps it with
 * `mapServiceNowCatalogItem`; an item that breaks the mapping is answered `rejected` on the status topic.
 */
export const ItsmServiceNowItemReceived = defineEvent('iga.itsm.servicenow-item-received', 1, TOPICS.itsmInbound, withoutSecrets(ServiceNowCatalogItemSchema));

export interface ServiceNowMappingOptions {
  /** e.g. `https://example.service-now.com`; when set, the ticket ref carries a link to the item. */
  instanceUrl?: string;
  /** Turns a ServiceNow user reference into a Grantline identity id (default: the reference's value). */
  identityOf?: (reference: ServiceNowReference) => string;
}

const valueOf = (reference: ServiceNowReference): string => (typeof reference === 'string' ? reference : reference.value);
const toIso = (dateTime: string): string => `${dateTime.replace(' ', 'T')}Z`;
const blankToUndefined = (value: string | undefined): string | undefined => (value === undefined || value.trim() === '' ? undefined : value.trim());

/**
 * Maps a ServiceNow requested item onto the generic `iga.itsm.request-received` data. Pure. Throws a
 * ContractViolationError naming the field when the payload, or what it maps to, breaks the contract.
 */
export function mapServiceNowCatalogItem(payload: unknown, options: ServiceNowMappingOptions = {}): ItsmRequestReceivedData {
  const parsed = ServiceNowCatalogItemSchema.safeParse(payload);
  if (!parsed.success) throw new ContractViolationError(toContractIssues(parsed.error), 'servicenow catalog item');
  const item = parsed.data;
  const vars = item.variables;
  const identityOf = options.identityOf ?? valueOf;

  const entitlementIds = (blankToUndefined(vars.entitlements) ?? '')
    .split(',')
    .map((id) => id.trim())
    .filter((id) => id !== '');
  const accessPackageId = blankToUndefined(vars.access_package);
  const duration = blankToUndefined(vars.duration);
  const endDate = blankToUndefined(vars.end_date);
  const incident = blankToUndefined(vars.incident_number);
  const beneficiary = blankToUndefined(vars.beneficiary);
  const kind = blankToUndefined(vars.beneficiary_kind);

  const candidate = {
    ticket: {
      system: 'servicenow',
      id: item.number,
      ...(options.instanceUrl === undefined
        ? {}
        : { url: `${options.instanceUrl.replace(/\/+$/, '')}/nav_to.do?uri=sc_req_item.do%3Fsys_id%3D${item.sys_id}` }),
    },
    requesterId: identityOf(item.opened_by),
    subject: { id: beneficiary ?? identityOf(item.requested_for), kind: kind ?? 'human' },
    // Both or neither given: pass what was sent through, so the schema reports it rather than us guessing.
    items:
      accessPackageId !== undefined && entitlementIds.length === 0
        ? { accessPackageId }
        : accessPackageId === undefined
          ? { entitlementIds }
          : { entitlementIds, accessPackageId },
    justification: vars.justification ?? '',
    ...(duration === undefined ? {} : { duration: /^\d+$/.test(duration) ? `PT${duration}H` : duration }),
    ...(endDate === undefined ? {} : { endsAt: toIso(endDate) }),
    ...(vars.emergency === 'true' ? { emergency: { breakGlass: true, incidentRef: { system: 'servicenow', id: incident ?? '' } } } : {}),
    ...(item.sys_created_on === undefined ? {} : { openedAt: toIso(item.sys_created_on) }),
  };
  const mapped = ItsmRequestReceivedDataSchema.safeParse(candidate);
  if (!mapped.success) throw new ContractViolationError(toContractIssues(mapped.error), `servicenow ${item.number}`);
  return mapped.data;
}
