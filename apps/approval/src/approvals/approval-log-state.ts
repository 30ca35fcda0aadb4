import {
  ApprovalBreakGlassGranted,
  ApprovalDecisionRecorded,
  ApprovalEscalated,
  ApprovalRequestApproved,
  ApprovalRequestDenied,
  ApprovalReviewCompleted,
  ApprovalReviewEscalated,
  ApprovalReviewOpened,
  ApprovalSelfApprovalBlocked,
  ApprovalTaskOpened,
  CatalogPublished,
  IdentityOffboarded,
  IdentityOwnerChanged,
  IdentityUpserted,
  PolicyDecisionRecorded,
  RequestSubmitted,
  RequestWithdrawn,
  isEvent,
  refOf,
} from '@grantline/contracts';
import type { Envelope } from '@grantline/contracts';
import type { FoldedState } from '@grantline/messaging-nest';
import { evolve } from '../domain/approval.evolve';
import { initialState } from '../domain/approval.state';
import type { RequestApprovalState } from '../domain/approval.state';
import { emptyDirectory, evolveDirectory } from '../domain/directory';
import type { Directory } from '../domain/directory';
import { InboxIndex } from '../domain/inbox.view';
import { ReviewBook } from '../domain/review-book';

/** Events that carry a request id and shape its approval aggregate. */
export const REQUEST_EVENTS = [
  RequestSubmitted,
  RequestWithdrawn,
  PolicyDecisionRecorded,
  ApprovalTaskOpened,
  ApprovalDecisionRecorded,
  ApprovalRequestApproved,
  ApprovalRequestDenied,
  ApprovalEscalated,
  ApprovalSelfApprovalBlocked,
  ApprovalBreakGlassGranted,
  ApprovalReviewOpened,
  ApprovalReviewCompleted,
  ApprovalReviewEscalated,
] as const;
export const DIRECTORY_EVENTS = [IdentityUpserted, IdentityOwnerChanged, IdentityOffboarded, CatalogPublished] as const;
const REQUEST_EVENT_TYPES: ReadonlySet<string> = new Set(REQUEST_EVENTS.map((def) => def.type));
export const DIRECTORY_EVENT_TYPES: ReadonlySet<string> = new Set(DIRECTORY_EVENTS.map((def) => def.type));

/** What the approval service folds from the log: one aggregate per request, the task index and the directory. */
export class ApprovalLogState implements FoldedState {
  directory: Directory = emptyDirectory();
  readonly requests = new Map<string, RequestApprovalState>();
  readonly taskIndex = new Map<string, string>();
  /** Break-glass post-incident reviews, one per break-glass request. */
  readonly reviews = new ReviewBook();
  /** What the approver's inbox shows beyond the aggregate: the submission and how each request ended. */
  readonly inbox = new InboxIndex();

  stateOf(requestId: string): RequestApprovalState {
    return this.requests.get(requestId) ?? initialState();
  }

  /** Any event of the replay: directory events fold into the directory, request events into their request. */
  apply(event: Envelope): void {
    if (DIRECTORY_EVENT_TYPES.has(event.type)) {
      this.directory = evolveDirectory(this.directory, event);
      return;
    }
    const requestId = REQUEST_EVENT_TYPES.has(event.type) ? refOf(event, 'requestId') : undefined;
    if (requestId !== undefined) this.fold(requestId, event);
  }

  fold(requestId: string, event: Envelope): void {
    this.requests.set(requestId, evolve(this.stateOf(requestId), event));
    if (isEvent(event, ApprovalTaskOpened)) this.taskIndex.set(event.data.taskId, requestId);
    this.reviews.fold(requestId, event);
    this.inbox.fold(requestId, event);
  }
}
