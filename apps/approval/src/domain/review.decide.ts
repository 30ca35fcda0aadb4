import { ApprovalReviewCompleted, ApprovalReviewEscalated, isoDurationToMillis } from '@grantline/contracts';
import type { Envelope, EventRegistry } from '@grantline/contracts';
import { EventFactory } from '@grantline/decider';
import type { Decider, EventIdOf } from '@grantline/decider';
import { APPROVAL_ACTOR, APPROVAL_SOURCE } from './approval.decide';
import type { ApprovalPolicy } from './approval.policy';
import { groupMembers, isActive } from './directory';
import type { Directory } from './directory';
import { assigneesOf, evolveReview, initialReviewState } from './review.state';
import type { BreakGlassReviewState } from './review.state';

/**
 * A reviewer records the outcome of a post-incident review. `reviewerId` is the authenticated principal and
 * `asSecurity` whether their token carries the security role: both from the edge, never from the body.
 */
export interface CompleteReviewCommand {
  readonly kind: 'complete_review';
  readonly requestId: string;
  readonly reviewId: string;
  readonly reviewerId: string;
  readonly asSecurity: boolean;
  readonly outcome: 'justified' | 'unjustified';
  readonly findings: string;
  readonly followUp?: string;
  readonly at: string;
}

/** `iga.timer.fired` of kind break_glass_review_due for the review. */
export interface ReviewDueCommand {
  readonly kind: 'review_due';
  readonly requestId: string;
  readonly reviewId: string;
  readonly timerEventId: string;
  readonly firedAt: string;
}

export type ReviewCommand = CompleteReviewCommand | ReviewDueCommand;

export type ReviewRejection = 'unknown_review' | 'beneficiary' | 'not_reviewer' | 'already_completed';

/** A review answer the rules refuse; nothing is recorded. The HTTP edge maps `rejection` to 404/403/409. */
export class ReviewRefused extends Error {
  constructor(
    readonly rejection: ReviewRejection,
    message: string,
  ) {
    super(message);
    this.name = 'ReviewRefused';
  }
}

export interface ReviewContext {
  readonly directory: Directory;
  readonly policy: ApprovalPolicy;
  readonly registry: EventRegistry;
  readonly eventId: EventIdOf;
}

export type ReviewDecider = Decider<ReviewCommand, Envelope, BreakGlassReviewState>;

/**
 * May `identityId` record this review's outcome? Never the beneficiary of the break-glass use (whatever their
 * role); otherwise security, or anyone the review is assigned to (a named reviewer or an escalation's addressee).
 * Asked by the edge before it reads the body, and again by decide.
 */
export const reviewerStanding = (
  state: BreakGlassReviewState,
  reviewId: string,
  identityId: string,
  asSecurity: boolean,
): { readonly refused: ReviewRefused } | { readonly allowed: true } => {
  if (state.review?.reviewId !== reviewId) return { refused: new ReviewRefused('unknown_review', `no break-glass review ${reviewId}`) };
  if (identityId === state.beneficiaryId) {
    return { refused: new ReviewRefused('beneficiary', `${identityId} may not review their own break-glass use (review ${reviewId})`) };
  }
  if (asSecurity || assigneesOf(state).includes(identityId)) return { allowed: true };
  return { refused: new ReviewRefused('not_reviewer', `${identityId} is neither security nor a reviewer of review ${reviewId}`) };
};

const plus = (iso: string, duration: string): string => new Date(Date.parse(iso) + (isoDurationToMillis(duration) ?? 0)).toISOString();

/**
 * Who an overdue review goes to: the active security group members and the managers of its reviewers, never the
 * beneficiary; the group itself when nobody is known (the review must reach someone).
 */
const escalationTargets = (state: BreakGlassReviewState, context: ReviewContext): string[] => {
  const managers = assigneesOf(state).flatMap((reviewerId) => {
    const managerId = context.directory.identities.get(reviewerId)?.managerId;
    return managerId !== undefined && isActive(context.directory, managerId) ? [managerId] : [];
  });
  const security = groupMembers(context.directory, context.policy.securityGroup, context.policy.groups);
  const targets = [...new Set([...security, ...managers])].filter((id) => id !== state.beneficiaryId).slice(0, 200);
  return targets.length > 0 ? targets : [context.policy.securityGroup];
};

const completeReview = (command: CompleteReviewCommand, state: BreakGlassReviewState, factory: EventFactory): Envelope[] => {
  const standing = reviewerStanding(state, command.reviewId, command.reviewerId, command.asSecurity);
  if ('refused' in standing) throw standing.refused;
  const { review, beneficiaryId, completion } = state;
  if (completion) {
    throw new ReviewRefused('already_completed', `review ${command.reviewId} was completed by ${completion.reviewerId} at ${completion.completedAt}`);
  }
  if (!review || beneficiaryId === undefined) throw new ReviewRefused('unknown_review', `no break-glass review ${command.reviewId}`);
  return [
    factory.derive(
      ApprovalReviewCompleted,
      {
        reviewId: review.reviewId,
        kind: 'break_glass_post_incident',
        requestId: review.requestId,
        beneficiaryId,
        reviewerId: command.reviewerId,
        asSecurity: command.asSecurity && !state.review?.reviewerIds.includes(command.reviewerId),
        outcome: command.outcome,
        findings: command.findings,
        ...(command.followUp !== undefined ? { followUp: command.followUp } : {}),
        completedAt: command.at,
      },
      {
        // One completion per review: a retried call derives the same id (and is refused as completed after the first).
        idParts: [ApprovalReviewCompleted.type, review.reviewId],
        subject: review.requestId,
        correlationId: review.requestId,
        time: command.at,
        actor: { kind: 'user', id: command.reviewerId },
      },
    ),
  ];
};

const reviewDue = (command: ReviewDueCommand, state: BreakGlassReviewState, context: ReviewContext, factory: EventFactory): Envelope[] => {
  const { review, beneficiaryId, dueAt } = state;
  // A completed review, an unknown one or a timer that already escalated it: nothing to do.
  if (!review || review.reviewId !== command.reviewId || state.completion || beneficiaryId === undefined || dueAt === undefined) return [];
  if (state.escalatedBy.includes(command.timerEventId)) return [];
  const escalation = state.escalations + 1;
  return [
    factory.derive(
      ApprovalReviewEscalated,
      {
        reviewId: review.reviewId,
        requestId: review.requestId,
        beneficiaryId,
        reason: 'deadline_passed',
        escalation,
        previousDueAt: dueAt,
        escalatedToIds: escalationTargets(state, context),
        dueAt: plus(command.firedAt, context.policy.breakGlassReviewWithin),
      },
      {
        idParts: [ApprovalReviewEscalated.type, review.reviewId, String(escalation)],
        cause: { id: command.timerEventId },
        subject: review.requestId,
        correlationId: review.requestId,
        time: command.firedAt,
      },
    ),
  ];
};

/**
 * The break-glass post-incident review as a Decider, pure over the command, the review's state and `context`:
 * completing it (once, by security or an assignee, never the beneficiary) and escalating it when its due timer
 * fires while it is still open. decide throws ReviewRefused when it records nothing.
 */
export const makeReviewDecider = (context: ReviewContext): ReviewDecider => {
  const factory = new EventFactory(context.registry, { source: APPROVAL_SOURCE, actor: APPROVAL_ACTOR }, context.eventId);
  return {
    initialState: initialReviewState,
    evolve: evolveReview,
    decide: (command, state) => {
      switch (command.kind) {
        case 'complete_review':
          return completeReview(command, state, factory);
        case 'review_due':
          return reviewDue(command, state, context, factory);
      }
    },
  };
};
