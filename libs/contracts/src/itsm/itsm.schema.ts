import { z } from 'zod';
import {
  IdSchema,
  IsoDurationSchema,
  JustificationSchema,
  ShortTextSchema,
  SubjectRefSchema,
  TicketRefSchema,
  TimestampSchema,
} from '../common/primitives.schema';
import { EmergencySchema, RequestItemsSchema } from '../requests/request-submitted.schema';
import { defineEvent } from '../registry/event-definition';
import { TOPICS } from '../topics/topic.catalogue';

/**
 * The ITSM-neutral request, as any upstream system (or the bridge in front of it) sends it. Structurally strict,
 * but business rules (e.g. "a duration or an end") are left to intake on purpose: a ticket that breaks them gets
 * a `rejected` status with reasons back on the ticket, instead of vanishing into the dead-letter topic.
 */
export const ItsmRequestReceivedDataSchema = z.strictObject({
  ticket: TicketRefSchema,
  requesterId: IdSchema,
  subject: SubjectRefSchema,
  items: RequestItemsSchema,
  justification: JustificationSchema,
  duration: IsoDurationSchema.optional(),
  endsAt: TimestampSchema.optional(),
  emergency: EmergencySchema.optional(),
  openedAt: TimestampSchema.optional(),
});
export type ItsmRequestReceivedData = z.infer<typeof ItsmRequestReceivedDataSchema>;

export const ItsmStatusSchema = z.enum(['received', 'rejected', 'pending_approval', 'approved', 'denied', 'provisioned', 'revoked', 'failed']);
export type ItsmStatus = z.infer<typeof ItsmStatusSchema>;

export const ItsmStatusChangedDataSchema = z.strictObject({
  ticket: TicketRefSchema,
  /** Absent only when the ticket was rejected before a request was recorded. */
  requestId: IdSchema.optional(),
  status: ItsmStatusSchema,
  reasons: z.array(ShortTextSchema).max(50),
  changedAt: TimestampSchema,
});
export type ItsmStatusChangedData = z.infer<typeof ItsmStatusChangedDataSchema>;

export const ItsmRequestReceived = defineEvent('iga.itsm.request-received', 1, TOPICS.itsmInbound, ItsmRequestReceivedDataSchema);
export const ItsmStatusChanged = defineEvent('iga.itsm.status-changed', 1, TOPICS.itsmStatus, ItsmStatusChangedDataSchema);
