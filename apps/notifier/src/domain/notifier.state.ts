import {
  ApprovalBreakGlassGranted,
  ApprovalReviewOpened,
  GrantCreated,
  GrantDriftDetected,
  GrantReconciliationCompleted,
  NotificationRequested,
  isEvent,
} from '@grantline/contracts';
import type { BreakGlassGrantedData, Envelope, ReviewOpenedData } from '@grantline/contracts';

/** What a break-glass notification names about the grant itself (from `iga.approval.break-glass-granted.v1`). */
export interface BreakGlassFact {
  readonly requestId: string;
  readonly beneficiaryId: string;
  readonly incident: string;
  readonly reviewDueAt: string;
}

/** Who reviews the break-glass afterwards (from `iga.approval.review-opened.v1`, kind `break_glass_post_incident`). */
export interface BreakGlassReview {
  readonly reviewId: string;
  readonly reviewerIds: readonly string[];
}

/** What a failure alert names about the grant (from `iga.grant.created.v1`): the failure itself carries only the grant id. */
export interface GrantFact {
  readonly grantId: string;
  readonly requestId: string;
  readonly connectorId: string;
  readonly targetAccount: string;
}

/** The events the state is folded from; the notifications topic is one of them so a restart knows what it already asked for. */
export const STATE_EVENTS = [
  ApprovalBreakGlassGranted,
  ApprovalReviewOpened,
  GrantCreated,
  GrantDriftDetected,
  GrantReconciliationCompleted,
  NotificationRequested,
] as const;

const STATE_TYPES = new Set<string>(STATE_EVENTS.map((def) => def.type));

/** What the notifier keeps of a break-glass grant. */
export const breakGlassFactOf = ({ requestId, beneficiaryId, incidentRef, reviewDueAt }: BreakGlassGrantedData): BreakGlassFact => ({
  requestId,
  beneficiaryId,
  incident: incidentRef.id,
  reviewDueAt,
});

/** What the notifier keeps of a post-incident review. */
export const breakGlassReviewOf = ({ reviewId, reviewerIds }: ReviewOpenedData): BreakGlassReview => ({ reviewId, reviewerIds: [...reviewerIds] });

/** One drift finding's identity across reconciliations: the same access, seen again. */
export const driftKeyOf = (finding: { connectorId: string; kind: string; targetAccount: string; externalRef: string }): string =>
  [finding.connectorId, finding.kind, finding.targetAccount, finding.externalRef].join('\u0000');

/**
 * What the state is made of, for a snapshot (ADR 0037): each map as its entries and the notifications requested, in
 * insertion order. It has no index to derive: `restore` puts them back as they are.
 */
export type NotifierStateParts = {
  readonly breakGlass: Iterable<readonly [string, BreakGlassFact]>;
  readonly reviews: Iterable<readonly [string, BreakGlassReview]>;
  readonly grants: Iterable<readonly [string, GrantFact]>;
  readonly requested: Iterable<string>;
  readonly reconciliations: Iterable<readonly [string, readonly string[]]>;
  readonly detections: Iterable<readonly [string, readonly string[]]>;
};

/** Observation instants remembered per connector and per finding: enough to tell a new finding from a continuing one. */
const RECENT = 8;

function remember(list: string[], instant: string): string[] {
  if (list.includes(instant)) return list;
  return [...list, instant].sort().slice(-RECENT);
}

/**
 * The minimum the notifier must remember because the facts that trigger a notification do not carry it
 * all: break-glass grants and their reviews (joined per request), grants (for failure alerts) and the
 * notification ids already requested (so a duplicate fact, or the same fact seen by replay and live, asks
 * only once). In memory, rebuilt by replaying the three topics at start.
 *
 * `apply` folds in place: the service holds one state and its replay folds the whole log, which a copy per event
 * would make quadratic. The decider's evolve folds into a `clone()` instead, so it stays pure.
 */
export class NotifierState {
  private readonly breakGlass = new Map<string, BreakGlassFact>();
  private readonly reviews = new Map<string, BreakGlassReview>();
  private readonly grants = new Map<string, GrantFact>();
  private readonly requested = new Set<string>();
  /** observedAt of each connector's recent completed reconciliations, ascending. */
  private readonly reconciliations = new Map<string, string[]>();
  /** detectedAt (= observedAt) of each finding's recent detections, ascending. */
  private readonly detections = new Map<string, string[]>();

  /** Whether `event` is one the state is folded from (every other event leaves it as it is). */
  static folds(event: Envelope): boolean {
    return STATE_TYPES.has(event.type);
  }

  clone(): NotifierState {
    const copy = new NotifierState();
    for (const [key, value] of this.breakGlass) copy.breakGlass.set(key, value);
    for (const [key, value] of this.reviews) copy.reviews.set(key, value);
    for (const [key, value] of this.grants) copy.grants.set(key, value);
    for (const id of this.requested) copy.requested.add(id);
    // the instant lists are replaced, never changed in place, so sharing them is safe
    for (const [key, value] of this.reconciliations) copy.reconciliations.set(key, value);
    for (const [key, value] of this.detections) copy.detections.set(key, value);
    return copy;
  }

  /** The state's parts, read as they are now: iterate them before anything else is folded. */
  parts(): NotifierStateParts {
    return {
      breakGlass: this.breakGlass.entries(),
      reviews: this.reviews.entries(),
      grants: this.grants.entries(),
      requested: this.requested.values(),
      reconciliations: this.reconciliations.entries(),
      detections: this.detections.entries(),
    };
  }

  /**
   * Fills a state that holds nothing with `parts` (a snapshot's, already read and checked). A state that holds
   * something is refused before anything changes: a snapshot is the whole state, never merged.
   */
  restore(parts: NotifierStateParts): void {
    const held = [this.breakGlass, this.reviews, this.grants, this.requested, this.reconciliations, this.detections];
    if (held.some((part) => part.size > 0)) throw new Error('a notifier state is restored only into a state that holds nothing');
    for (const [key, value] of parts.breakGlass) this.breakGlass.set(key, value);
    for (const [key, value] of parts.reviews) this.reviews.set(key, value);
    for (const [key, value] of parts.grants) this.grants.set(key, value);
    for (const id of parts.requested) this.requested.add(id);
    // Lists of its own: the state shares none with whoever handed it the parts.
    for (const [key, value] of parts.reconciliations) this.reconciliations.set(key, [...value]);
    for (const [key, value] of parts.detections) this.detections.set(key, [...value]);
  }

  apply(event: Envelope): void {
    if (isEvent(event, ApprovalBreakGlassGranted)) {
      this.breakGlass.set(event.data.requestId, breakGlassFactOf(event.data));
    } else if (isEvent(event, ApprovalReviewOpened)) {
      const { kind, requestId } = event.data;
      if (kind === 'break_glass_post_incident' && requestId !== undefined) this.reviews.set(requestId, breakGlassReviewOf(event.data));
    } else if (isEvent(event, GrantCreated)) {
      const { grantId, requestId, connectorId, targetAccount } = event.data;
      this.grants.set(grantId, { grantId, requestId, connectorId, targetAccount });
    } else if (isEvent(event, NotificationRequested)) {
      this.requested.add(event.data.notificationId);
    } else if (isEvent(event, GrantReconciliationCompleted)) {
      const { connectorId, observedAt } = event.data;
      this.reconciliations.set(connectorId, remember(this.reconciliations.get(connectorId) ?? [], new Date(observedAt).toISOString()));
    } else if (isEvent(event, GrantDriftDetected)) {
      const key = driftKeyOf(event.data);
      this.detections.set(key, remember(this.detections.get(key) ?? [], new Date(event.data.detectedAt).toISOString()));
    }
  }

  breakGlassOf(requestId: string): BreakGlassFact | undefined {
    return this.breakGlass.get(requestId);
  }

  reviewOf(requestId: string): BreakGlassReview | undefined {
    return this.reviews.get(requestId);
  }

  grant(grantId: string): GrantFact | undefined {
    return this.grants.get(grantId);
  }

  /**
   * A finding continues an open one when the connector's previous completed reconciliation (the latest one
   * observed before this detection) found it too; otherwise it is new (first seen, or back after it was gone).
   * Answered as if the finding were folded already (remembering it may push the oldest instant out): decide asks
   * before the fact is folded, and a replay must answer exactly as the first run did.
   */
  continuesOpenDrift(finding: { connectorId: string; kind: string; targetAccount: string; externalRef: string; detectedAt: string }): boolean {
    const detectedAt = new Date(finding.detectedAt).toISOString();
    const previous = (this.reconciliations.get(finding.connectorId) ?? []).filter((observedAt) => observedAt < detectedAt).at(-1);
    return previous !== undefined && remember(this.detections.get(driftKeyOf(finding)) ?? [], detectedAt).includes(previous);
  }

  wasRequested(notificationId: string): boolean {
    return this.requested.has(notificationId);
  }

  get size(): { breakGlass: number; grants: number; requested: number } {
    return { breakGlass: this.breakGlass.size, grants: this.grants.size, requested: this.requested.size };
  }
}
