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

export const NotificationRequestedDataSchema = withoutSecrets(
  z.strictObject({
    notificationId: IdSchema,
    channel: NotificationChannelSchema,
    audience: z.union([
      z.strictObject({ identityIds: idListSchema({ min: 1 }) }),
      z.strictObject({ groupId: IdSchema }),
    ]),
    template: NotificationTemplateSchema,
    refs: z
      .strictObject({ requestId: IdSchema.optional(), grantId: IdSchema.optional(), taskId: IdSchema.optional(), reviewId: IdSchema.optional() })
      .refine((refs) => Object.values(refs).some((ref) => ref !== undefined), { message: 'Invalid refs: at least one reference is required' }),
    /** Template parameters: scalars only, and never a secret (the whole payload is screened). */
    params: z.record(z.string().min(1).max(100), z.union([z.string().max(LIMITS.shortText), z.number(), z.boolean()])).default({}),
  }),
);
export type NotificationRequestedData = z.infer<typeof NotificationRequestedDataSchema>;

export const NotificationRequested = defineEvent('iga.notification.requested', 1, TOPICS.notifications, NotificationRequestedDataSchema);
