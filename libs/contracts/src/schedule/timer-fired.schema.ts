import { z } from 'zod';
import { IdSchema, TimestampSchema } from '../common/primitives.schema';
import { defineEvent } from '../registry/event-definition';
import { TOPICS } from '../topics/topic.catalogue';

/** The kinds of v1, frozen: a v1 record on the log is read with exactly these. */
export const TimerKindV1Schema = z.enum(['grant_expiry', 'approval_deadline', 'recertification_due', 'break_glass_review_due']);

/**
 * v2 adds the timers that close the lifecycle: a certification campaign due on its cadence (`campaign_due`), the
 * deadline of a certification review (`review_deadline`), and the deadline of an NHI ownership transfer case
 * (`ownership_transfer_due`).
 */
export const TimerKindSchema = z.enum([
  'grant_expiry',
  'approval_deadline',
  'recertification_due',
  'break_glass_review_due',
  'campaign_due',
  'review_deadline',
  'ownership_transfer_due',
]);
export type TimerKind = z.infer<typeof TimerKindSchema>;

const TIMER_TARGET_FIELD = {
  grant_expiry: 'grantId',
  approval_deadline: 'taskId',
  recertification_due: 'grantId',
  break_glass_review_due: 'reviewId',
  campaign_due: 'campaignId',
  review_deadline: 'reviewId',
  ownership_transfer_due: 'transferId',
} as const satisfies Record<TimerKind, string>;

const timerFiredSchema = <Kind extends z.ZodEnum<Record<string, string>>, Target extends z.ZodRawShape>(kind: Kind, target: Target) =>
  z
    .strictObject({
      /** Deterministic (`<kind>:<target id>`), so a timer rebuilt by replay fires under the same id. */
      timerId: IdSchema,
      kind,
      dueAt: TimestampSchema,
      firedAt: TimestampSchema,
      target: z.strictObject(target),
    })
    .superRefine((timer, ctx) => refineTimer(timer as unknown as TimerShape, ctx));

interface TimerShape {
  readonly kind: TimerKind;
  readonly dueAt: string;
  readonly firedAt: string;
  readonly target: Readonly<Record<string, string | undefined>>;
}

function refineTimer(timer: TimerShape, ctx: z.RefinementCtx): void {
  const field = TIMER_TARGET_FIELD[timer.kind];
  if (timer.target[field] === undefined) {
    ctx.addIssue({ code: 'custom', path: ['target', field], message: `Invalid timer: ${timer.kind} needs target.${field}` });
  }
  if (Date.parse(timer.firedAt) < Date.parse(timer.dueAt)) {
    ctx.addIssue({ code: 'custom', path: ['firedAt'], message: 'Invalid timer: fired before it was due' });
  }
}

const TimerTargetV1Shape = {
  grantId: IdSchema.optional(),
  requestId: IdSchema.optional(),
  taskId: IdSchema.optional(),
  reviewId: IdSchema.optional(),
};

export const TimerFiredV1DataSchema = timerFiredSchema(TimerKindV1Schema, TimerTargetV1Shape);
export type TimerFiredV1Data = z.infer<typeof TimerFiredV1DataSchema>;

export const TimerFiredDataSchema = timerFiredSchema(TimerKindSchema, {
  ...TimerTargetV1Shape,
  /** The certification campaign definition a `campaign_due` timer starts. */
  campaignId: IdSchema.optional(),
  /** The NHI ownership transfer case whose deadline passed. */
  transferId: IdSchema.optional(),
  /** The identity the timer concerns (the NHI of an ownership transfer). */
  identityId: IdSchema.optional(),
});
export type TimerFiredData = z.infer<typeof TimerFiredDataSchema>;

export const TimerFiredV1 = defineEvent('iga.timer.fired', 1, TOPICS.schedule, TimerFiredV1DataSchema);
export const TimerFiredV2 = defineEvent('iga.timer.fired', 2, TOPICS.schedule, TimerFiredDataSchema);
/** The current version: what the scheduler writes. */
export const TimerFired = TimerFiredV2;

/** v1 → v2: every v1 timer is a valid v2 timer (v2 only adds kinds and target fields). */
export function upcastTimerFiredV1ToV2(previous: unknown): TimerFiredData {
  return TimerFiredV1DataSchema.parse(previous);
}
