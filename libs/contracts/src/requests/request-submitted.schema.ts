import { z } from 'zod';
import {
  IdSchema,
  IsoDurationSchema,
  JustificationSchema,
  SubjectRefSchema,
  TicketRefSchema,
  TimestampSchema,
  idListSchema,
} from '../common/primitives.schema';
import { defineEvent } from '../registry/event-definition';
import { TOPICS } from '../topics/topic.catalogue';

/** What is asked for: either individual entitlements or one access package, never both. */
export const RequestItemsSchema = z.union([
  z.strictObject({ entitlementIds: idListSchema({ min: 1, max: 50 }) }),
  z.strictObject({ accessPackageId: IdSchema }),
]);
export type RequestItems = z.infer<typeof RequestItemsSchema>;

export const EmergencySchema = z.strictObject({
  /** Break-glass: provision first, review after. Always needs an incident to be reviewed against. */
  breakGlass: z.literal(true),
  incidentRef: TicketRefSchema,
});

export const RequestChannelSchema = z.enum(['api', 'itsm', 'cli']);
export type RequestChannel = z.infer<typeof RequestChannelSchema>;

/**
 * v1 — FROZEN. Released shape, kept exactly as written so old log entries stay readable.
 * It carried the duration as whole hours and had no channel.
 */
export const RequestSubmittedV1DataSchema = z.strictObject({
  requestId: IdSchema,
  requesterId: IdSchema,
  subject: SubjectRefSchema,
  items: RequestItemsSchema,
  justification: JustificationSchema,
  ticket: TicketRefSchema.optional(),
  durationHours: z
    .number()
    .int()
    .positive()
    .max(24 * 366),
  emergency: EmergencySchema.optional(),
});
export type RequestSubmittedV1Data = z.infer<typeof RequestSubmittedV1DataSchema>;

/** v2 — an ISO-8601 duration or an absolute end, and the channel the request came through. */
export const RequestSubmittedV2DataSchema = z
  .strictObject({
    requestId: IdSchema,
    requesterId: IdSchema,
    subject: SubjectRefSchema,
    items: RequestItemsSchema,
    justification: JustificationSchema,
    ticket: TicketRefSchema.optional(),
    duration: IsoDurationSchema.optional(),
    endsAt: TimestampSchema.optional(),
    emergency: EmergencySchema.optional(),
    channel: RequestChannelSchema,
  })
  .refine((data) => (data.duration === undefined) !== (data.endsAt === undefined), {
    message: 'Invalid request: exactly one of duration or endsAt is required',
    path: ['duration'],
  });
export type RequestSubmittedV2Data = z.infer<typeof RequestSubmittedV2DataSchema>;

export const RequestSubmittedV1 = defineEvent('iga.request.submitted', 1, TOPICS.requests, RequestSubmittedV1DataSchema);
export const RequestSubmittedV2 = defineEvent('iga.request.submitted', 2, TOPICS.requests, RequestSubmittedV2DataSchema);
/** The current version: what producers write. */
export const RequestSubmitted = RequestSubmittedV2;
export type RequestSubmittedData = RequestSubmittedV2Data;

/** v1 → v2: hours become an ISO duration; v1 only existed behind the HTTP API, so the channel is `api`. */
export function upcastRequestSubmittedV1ToV2(previous: unknown): RequestSubmittedV2Data {
  const v1 = RequestSubmittedV1DataSchema.parse(previous);
  const { durationHours, ...rest } = v1;
  return { ...rest, duration: `PT${durationHours}H`, channel: 'api' };
}
