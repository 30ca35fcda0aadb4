import { Body, Controller, Get, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import {
  BearerAuthGuard,
  CurrentPrincipal,
  PROBLEMS,
  ProblemException,
  ProblemResponses,
  RequireRoles,
  ZodBody,
  ZodResponse,
  concealed,
  fieldErrorsOf,
  forbidden,
  hasAnyRole,
  invalidInput,
} from '@grantline/http-edge';
import type { Principal, ProblemType, ViewOf } from '@grantline/http-edge';
import { RequireLoaded } from '@grantline/service-kit';
import { ReviewRefused, reviewerStanding } from '../domain/review.decide';
import { assigneesOf } from '../domain/review.state';
import { CompleteReview } from './approval-review.handlers';
import { ReviewCompletionBodySchema, ReviewListSchema, ReviewViewSchema } from './approval-reviews.schema';
import { ApprovalStateService } from './approval-state.service';

/** The answers, typed by the schemas that document them: the compiler holds the views to the document. */
type ReviewAnswer = ViewOf<typeof ReviewViewSchema>;
type ReviewList = ViewOf<typeof ReviewListSchema>;

const ALREADY_COMPLETED: ProblemType = { slug: 'review_completed', status: 409, title: 'The review is already completed' };
const LOG_UNAVAILABLE: ProblemType = { slug: 'log_unavailable', status: 503, title: 'The event log is unavailable' };
const unknownReviewDetail = (reviewId: string): string => `no review ${reviewId}`;

/**
 * Post-incident reviews of break-glass use. A review is visible to security and auditors, to whoever it is
 * assigned to (its named reviewers, then whoever it was escalated to) and to the beneficiary whose use it reviews;
 * anyone else is told what an unknown review is told. Security or an assignee records the outcome, once; the
 * beneficiary never does.
 */
@Controller('v1/reviews')
@UseGuards(BearerAuthGuard, RequireLoaded(ApprovalStateService))
export class ApprovalReviewsController {
  constructor(
    private readonly state: ApprovalStateService,
    private readonly commands: CommandBus,
  ) {}

  /** The caller's open reviews (security and auditors: every open review), oldest due first. */
  @Get()
  @RequireRoles('member', 'security', 'auditor')
  @ZodResponse(200, ReviewListSchema, 'Open break-glass post-incident reviews')
  @ProblemResponses(401, 403, 503)
  async list(@CurrentPrincipal() principal: Principal): Promise<ReviewList> {
    await this.state.whenLoaded();
    const everyone = hasAnyRole(principal, ['security', 'auditor']);
    return { reviews: this.state.reviews.open(everyone ? undefined : principal.subject) };
  }

  @Get(':reviewId')
  @ZodResponse(200, ReviewViewSchema, 'One review, open or completed')
  @ProblemResponses(401, 404, 503)
  async one(@Param('reviewId') reviewId: string, @CurrentPrincipal() principal: Principal): Promise<ReviewAnswer> {
    const requestId = await this.visibleReview(principal, reviewId);
    const view = this.state.reviews.view(requestId);
    if (!view) throw concealed(principal, `review:${reviewId}`, unknownReviewDetail(reviewId), 'unknown review');
    return view;
  }

  /**
   * Records the outcome as the authenticated principal. Refused before the body is read: a caller who may not see
   * the review (404), the beneficiary or someone neither security nor assigned (403, recorded).
   */
  @Post(':reviewId')
  @HttpCode(200)
  @ZodBody(ReviewCompletionBodySchema)
  @ZodResponse(200, ReviewViewSchema, 'The completed review')
  @ProblemResponses(
    400,
    401,
    [403, 'The beneficiary, or neither security nor an assigned reviewer (recorded)'],
    404,
    [409, 'The review is already completed'],
    503,
  )
  async complete(@Param('reviewId') reviewId: string, @Body() body: unknown, @CurrentPrincipal() principal: Principal): Promise<ReviewAnswer> {
    const requestId = await this.visibleReview(principal, reviewId);
    const asSecurity = hasAnyRole(principal, ['security']);
    const standing = reviewerStanding(this.state.reviews.stateOf(requestId), reviewId, principal.subject, asSecurity);
    if ('refused' in standing) throw this.problemOf(standing.refused, principal, reviewId);
    const parsed = ReviewCompletionBodySchema.safeParse(body ?? {});
    if (!parsed.success) throw invalidInput(fieldErrorsOf(parsed.error), PROBLEMS.invalidBody);
    const { outcome, findings, followUp } = parsed.data;
    try {
      return await this.commands.execute(new CompleteReview(requestId, reviewId, principal.subject, asSecurity, outcome, findings, followUp));
    } catch (error) {
      if (error instanceof ReviewRefused) throw this.problemOf(error, principal, reviewId);
      throw ProblemException.of(LOG_UNAVAILABLE, `the review was not recorded: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  /** The request the review belongs to, when the caller may see the review; a concealing 404 otherwise. */
  private async visibleReview(principal: Principal, reviewId: string): Promise<string> {
    await this.state.whenLoaded();
    const ref = `review:${reviewId}`;
    const requestId = this.state.reviews.requestOf(reviewId);
    if (requestId === undefined) throw concealed(principal, ref, unknownReviewDetail(reviewId), 'unknown review');
    if (hasAnyRole(principal, ['security', 'auditor'])) return requestId;
    const review = this.state.reviews.stateOf(requestId);
    if (review.beneficiaryId === principal.subject || assigneesOf(review).includes(principal.subject)) return requestId;
    throw concealed(principal, ref, unknownReviewDetail(reviewId), 'not security, an auditor, a reviewer of it or its beneficiary');
  }

  private problemOf(refusal: ReviewRefused, principal: Principal, reviewId: string): Error {
    switch (refusal.rejection) {
      case 'unknown_review':
        return concealed(principal, `review:${reviewId}`, unknownReviewDetail(reviewId), 'unknown review');
      case 'beneficiary':
      case 'not_reviewer':
        return forbidden(principal, refusal.message, `review:${reviewId}`);
      case 'already_completed':
        return ProblemException.of(ALREADY_COMPLETED, refusal.message);
    }
  }
}
