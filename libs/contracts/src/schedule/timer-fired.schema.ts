import { z } from 'zod';
import { IdSchema, TimestampSchema } from '../common/primitives.schema';
import { defineEvent } from '../registry/event-definition';
import { TOPICS } from '../topics/topic.catalogue';

export const TimerKindSchema = z.enum(['grant_expiry', 'approval_deadline', 'recertification_due', 'break_glass_review_due']);
export type TimerKind = z.infer<typeof TimerKindSchema>;

export const TimerFiredDataSchema = z
  .strictObject({
    /** Deterministic (`<kind>:<target id>`), so a timer rebuilt by replay fires under the same id. */
    timerId: IdSchema,
    kind: TimerKindSchema,
    dueAt: TimestampSchema,
    firedAt: TimestampSchema,
    target: z.strictObject({
      grantId: IdSchema.optional(),
      requestId: IdSchema.optional(),
      taskId: IdSchema.optional(),
      reviewId: IdSchema.optional(),
    }),
  })
  .superRefine((timer, ctx) => {
    const required: Record<TimerKind, 'grantId' | 'taskId' | 'reviewId'> = {
      grant_expiry: 'grantId',
      approval_deadline: 'taskId',
      recertification_due: 'grantId',
      break_glass_review_due: 'reviewId',
    };
    const field = required[timer.kind];
    if (timer.target[field] === undefined) {
      ctx.addIssue({ code: 'custom', path: ['target', field], message: `Invalid timer: ${timer.kind} needs target.${field}` });
    }
    if (Date.parse(timer.firedAt) < Date.parse(timer.dueAt)) {
      ctx.addIssue({ code: 'custom', path: ['firedAt'], message: 'Invalid timer: fired before it was due' });
    }
  });
export type TimerFiredData = z.infer<typeof TimerFiredDataSchema>;

export const TimerFired = defineEvent('iga.timer.fired', 1, TOPICS.schedule, TimerFiredDataSchema);
