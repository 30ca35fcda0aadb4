import { Inject } from '@nestjs/common';
import { Command, CommandHandler } from '@nestjs/cqrs';
import type { ICommandHandler } from '@nestjs/cqrs';
import type { Envelope } from '@grantline/contracts';
import type { Clock } from '@grantline/decider';
import { CLOCK } from '@grantline/service-kit';
import type { ReviewCommand } from '../domain/review.decide';
import type { ReviewView } from '../domain/review-book';
import { ApprovalStateService } from './approval-state.service';

/** A reviewer records a post-incident review's outcome; `reviewerId` and `asSecurity` come from the token. */
export class CompleteReview extends Command<ReviewView> {
  constructor(
    readonly requestId: string,
    readonly reviewId: string,
    readonly reviewerId: string,
    readonly asSecurity: boolean,
    readonly outcome: 'justified' | 'unjustified',
    readonly findings: string,
    readonly followUp?: string,
  ) {
    super();
  }
}

/** A review's break_glass_review_due timer fired: escalate it if it is still open. */
export class EscalateReview extends Command<void> {
  constructor(
    readonly reviewId: string,
    readonly timerEventId: string,
    readonly firedAt: string,
    /** When the timer names it; else the review index says. */
    readonly requestId?: string,
  ) {
    super();
  }
}

/** The runtime's one step for a review, under its request's lock: decide, publish, fold. */
const decideOnReview = async (approvals: ApprovalStateService, command: ReviewCommand): Promise<readonly Envelope[]> => {
  const events = approvals.reviewDecider().decide(command, approvals.reviews.stateOf(command.requestId));
  await approvals.commit(command.requestId, events);
  return events;
};

@CommandHandler(CompleteReview)
export class CompleteReviewHandler implements ICommandHandler<CompleteReview> {
  constructor(
    private readonly approvals: ApprovalStateService,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  execute(command: CompleteReview): Promise<ReviewView> {
    const { requestId, reviewId, reviewerId, asSecurity, outcome, findings, followUp } = command;
    const at = this.clock.now().toISOString();
    return this.approvals.exclusive(requestId, async () => {
      await decideOnReview(this.approvals, {
        kind: 'complete_review',
        requestId,
        reviewId,
        reviewerId,
        asSecurity,
        outcome,
        findings,
        ...(followUp !== undefined ? { followUp } : {}),
        at,
      });
      const view = this.approvals.reviews.view(requestId);
      if (!view) throw new Error(`review ${reviewId} vanished after it was completed`);
      return view;
    });
  }
}

@CommandHandler(EscalateReview)
export class EscalateReviewHandler implements ICommandHandler<EscalateReview> {
  constructor(private readonly approvals: ApprovalStateService) {}

  async execute({ reviewId, timerEventId, firedAt, requestId: named }: EscalateReview): Promise<void> {
    const requestId = named ?? this.approvals.reviews.requestOf(reviewId);
    if (requestId === undefined) return;
    await this.approvals.exclusive(requestId, () => decideOnReview(this.approvals, { kind: 'review_due', requestId, reviewId, timerEventId, firedAt }));
  }
}

export const REVIEW_COMMAND_HANDLERS = [CompleteReviewHandler, EscalateReviewHandler];
