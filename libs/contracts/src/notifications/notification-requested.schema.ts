import { z } from 'zod';
import { IdSchema, LIMITS, idListSchema } from '../common/primitives.schema';
import { withoutSecrets } from '../common/no-secrets.schema';
import { defineEvent } from '../registry/event-definition';
import { TOPICS } from '../topics/topic.catalogue';

export const NotificationChannelSchema = z.enum(['email', 'chat', 'webhook', 'itsm_comment']);
export const NotificationTemplateSchema = z.enum([
  'approval_task_opened',
  'approval_escalated',
  'request_approved',
  'request_denied',
  'grant_activated',
  'grant_expiring',
  'grant_revoked',
  'provisioning_failed',
  'break_glass_granted',
  'review_opened',
]);

const AudienceSchema = z.union([z.strictObject({ identityIds: idListSchema({ min: 1 }) }), z.strictObject({ groupId: IdSchema })]);
/** Template parameters: scalars only, and never a secret (the whole payload is screened). */
const ParamsSchema = z.record(z.string().min(1).max(100), z.union([z.string().max(LIMITS.shortText), z.number(), z.boolean()])).default({});
const atLeastOneRef = (refs: Record<string, string | undefined>): boolean => Object.values(refs).some((ref) => ref !== undefined);

/** v1: released, frozen. */
export const NotificationRequestedV1DataSchema = withoutSecrets(
  z.strictObject({
    notificationId: IdSchema,
    channel: NotificationChannelSchema,
    audience: AudienceSchema,
    template: NotificationTemplateSchema,
    refs: z
      .strictObject({ requestId: IdSchema.optional(), grantId: IdSchema.optional(), taskId: IdSchema.optional(), reviewId: IdSchema.optional() })
      .refine(atLeastOneRef, { message: 'Invalid refs: at least one reference is required' }),
    params: ParamsSchema,
  }),
);
export type NotificationRequestedV1Data = z.infer<typeof NotificationRequestedV1DataSchema>;

/** v2 adds drift alerts: access found in a target that no grant explains has no request, only its reconciliation report. */
export const NotificationTemplateV2Schema = z.enum([...NotificationTemplateSchema.options, 'access_drift_detected']);

export const NotificationRequestedV2DataSchema = withoutSecrets(
  z.strictObject({
    notificationId: IdSchema,
    channel: NotificationChannelSchema,
    audience: AudienceSchema,
    template: NotificationTemplateV2Schema,
    refs: z
      .strictObject({
        requestId: IdSchema.optional(),
        grantId: IdSchema.optional(),
        taskId: IdSchema.optional(),
        reviewId: IdSchema.optional(),
        /** The reconciliation report that found the drift. */
        reportId: IdSchema.optional(),
      })
      .refine(atLeastOneRef, { message: 'Invalid refs: at least one reference is required' }),
    params: ParamsSchema,
  }),
);
export type NotificationRequestedV2Data = z.infer<typeof NotificationRequestedV2DataSchema>;

export const NotificationRequestedV1 = defineEvent('iga.notification.requested', 1, TOPICS.notifications, NotificationRequestedV1DataSchema);
export const NotificationRequestedV2 = defineEvent('iga.notification.requested', 2, TOPICS.notifications, NotificationRequestedV2DataSchema);
/** The current version: what producers write. */
export const NotificationRequested = NotificationRequestedV2;
export const NotificationRequestedDataSchema = NotificationRequestedV2DataSchema;
export type NotificationRequestedData = NotificationRequestedV2Data;

/** v1 → v2: every v1 notification is a valid v2 one (v2 only adds a template and a reference). */
export function upcastNotificationRequestedV1ToV2(previous: unknown): NotificationRequestedV2Data {
  return NotificationRequestedV1DataSchema.parse(previous);
}
