import { z } from 'zod';
import {
  EmergencySchema,
  IdSchema,
  IdentityOffboardedDataSchema,
  IsoDurationSchema,
  JustificationSchema,
  LIMITS,
  SubjectRefSchema,
  TicketRefSchema,
  TimestampSchema,
  idListSchema,
} from '@grantline/contracts';
import type { RequestItems, SubjectRef, TicketRef } from '@grantline/contracts';
import { fieldErrorsOf } from '@grantline/http-edge';
import type { FieldError } from '@grantline/http-edge';

/** `POST /v1/requests`. Field schemas are the contract's; the requester is never a body field (it is the token subject). */
export const SubmitRequestBodySchema = z.strictObject({
  subject: SubjectRefSchema.describe('The beneficiary: who gets the access (a person or a non-human identity).'),
  entitlementIds: idListSchema({ min: 1, max: 50 }).optional().describe('Entitlements from the catalogue; or give accessPackageId.'),
  accessPackageId: IdSchema.optional().describe('An access package from the catalogue; or give entitlementIds.'),
  justification: JustificationSchema.describe('Why the access is needed.'),
  ticket: TicketRefSchema.optional().describe('The ticket this request belongs to.'),
  duration: IsoDurationSchema.optional().describe('ISO-8601 duration in W/D/H/M/S units, e.g. PT8H; or give endsAt.'),
  endsAt: TimestampSchema.optional().describe('Absolute end (RFC 3339); or give duration.'),
  emergency: EmergencySchema.optional().describe('Break-glass: granted at once, reviewed after the fact, against an incident.'),
});
export type SubmitRequestBody = z.infer<typeof SubmitRequestBodySchema>;

export interface ValidSubmission {
  readonly subject: SubjectRef;
  readonly items: RequestItems;
  readonly justification: string;
  readonly ticket?: TicketRef;
  readonly duration?: string;
  readonly endsAt?: string;
  readonly emergency?: SubmitRequestBody['emergency'];
}

/** What the catalogue is asked during validation. */
export interface CatalogLookup {
  entitlement(id: string): { requestable: boolean } | undefined;
  accessPackage(id: string): object | undefined;
}

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

/**
 * Validates a submission and reports every bad field at once: shape (the contract's field schemas), the
 * either/or pairs, an end in the past, and entitlements or packages the loaded catalogue does not hold.
 */
export function validateSubmission(
  body: unknown,
  catalog: CatalogLookup,
  now: Date,
): { ok: true; value: ValidSubmission } | { ok: false; errors: FieldError[] } {
  if (!isObject(body)) return { ok: false, errors: [{ field: '(body)', message: 'expected a JSON object' }] };
  const parsed = SubmitRequestBodySchema.safeParse(body);
  const errors = parsed.success ? [] : fieldErrorsOf(parsed.error);
  const has = (field: string): boolean => body[field] !== undefined;

  if (has('entitlementIds') === has('accessPackageId')) {
    errors.push({ field: 'entitlementIds', message: 'give either entitlementIds or accessPackageId (exactly one)' });
  }
  if (has('duration') === has('endsAt')) {
    errors.push({ field: 'duration', message: 'give either duration or endsAt (exactly one)' });
  }
  if (typeof body['endsAt'] === 'string' && Date.parse(body['endsAt']) <= now.getTime()) {
    errors.push({ field: 'endsAt', message: 'must be in the future' });
  }
  if (Array.isArray(body['entitlementIds'])) {
    body['entitlementIds'].forEach((id: unknown, index) => {
      if (typeof id !== 'string') return;
      const entitlement = catalog.entitlement(id);
      if (!entitlement) errors.push({ field: `entitlementIds.${index}`, message: `unknown entitlement "${id}": not in the catalogue` });
      else if (!entitlement.requestable) errors.push({ field: `entitlementIds.${index}`, message: `entitlement "${id}" is not requestable` });
    });
  }
  if (typeof body['accessPackageId'] === 'string' && !catalog.accessPackage(body['accessPackageId'])) {
    errors.push({ field: 'accessPackageId', message: `unknown access package "${body['accessPackageId']}": not in the catalogue` });
  }
  if (errors.length > 0 || !parsed.success) return { ok: false, errors };

  const data = parsed.data;
  return {
    ok: true,
    value: {
      subject: data.subject,
      items: data.entitlementIds !== undefined ? { entitlementIds: data.entitlementIds } : { accessPackageId: data.accessPackageId as string },
      justification: data.justification,
      ...(data.ticket === undefined ? {} : { ticket: data.ticket }),
      ...(data.duration === undefined ? {} : { duration: data.duration }),
      ...(data.endsAt === undefined ? {} : { endsAt: data.endsAt }),
      ...(data.emergency === undefined ? {} : { emergency: data.emergency }),
    },
  };
}

const ReasonSchema = z.string().trim().min(1).max(LIMITS.comment);

export const WithdrawBodySchema = z.strictObject({ reason: ReasonSchema.optional() });
export const RevokeBodySchema = z.strictObject({
  reason: ReasonSchema.describe('Why the grant is revoked.'),
  ticket: TicketRefSchema.optional().describe('An upstream ticket that follows the revocation on the ITSM status topic.'),
});
export const OffboardBodySchema = z.strictObject({
  reason: IdentityOffboardedDataSchema.shape.reason,
  kind: IdentityOffboardedDataSchema.shape.kind.optional().describe('Needed only when the intake has not seen the identity.'),
  effectiveAt: TimestampSchema.optional(),
});

/** Parses an optional body (`{}` when absent) or reports its fields. */
export function parseBody<T>(schema: z.ZodType<T>, body: unknown): { ok: true; value: T } | { ok: false; errors: FieldError[] } {
  const parsed = schema.safeParse(body ?? {});
  return parsed.success ? { ok: true, value: parsed.data } : { ok: false, errors: fieldErrorsOf(parsed.error) };
}
