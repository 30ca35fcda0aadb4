import { ApprovalBreakGlassGranted, ApprovalRequestApproved, ApprovalRequestDenied, RequestSubmitted, RequestWithdrawn, isEvent } from '@grantline/contracts';
import type { Envelope, SodConflict, TicketRef } from '@grantline/contracts';
import { statusOf } from './approval.state';
import type { RequestApprovalState, RequestStatus } from './approval.state';
import { requestedEntitlementIds } from './approver-resolution';
import type { Directory } from './directory';

/** What a request's submission says that the approval aggregate does not keep, and how the request ended. */
export interface RequestFacts {
  readonly submittedAt: string;
  readonly justification: string;
  readonly ticket?: TicketRef;
  readonly endedAt?: string;
  /** The grants an approval or a break-glass use created, with their planned end. */
  readonly grants?: readonly { readonly grantId: string; readonly entitlementId: string; readonly expiresAt: string }[];
  readonly deniedReasons?: readonly string[];
}

const INBOX_EVENTS = [RequestSubmitted, RequestWithdrawn, ApprovalRequestApproved, ApprovalRequestDenied, ApprovalBreakGlassGranted] as const;
const INBOX_EVENT_TYPES: ReadonlySet<string> = new Set(INBOX_EVENTS.map((definition) => definition.type));

/**
 * The approver's inbox needs what the submission said (justification, ticket, when) and, for the lineage, every
 * earlier request of the same subject and how it ended. Folded beside the request aggregates from the same events;
 * the first fact of each kind wins, so a duplicate changes nothing.
 */
export class InboxIndex {
  private readonly facts = new Map<string, RequestFacts>();
  private readonly bySubject = new Map<string, Set<string>>();

  static folds(event: Envelope): boolean {
    return INBOX_EVENT_TYPES.has(event.type);
  }

  fold(requestId: string, event: Envelope): void {
    if (isEvent(event, RequestSubmitted)) {
      if (this.facts.has(requestId)) return;
      const { justification, ticket, emergency, subject } = event.data;
      const ticketRef = ticket ?? emergency?.incidentRef;
      this.facts.set(requestId, { submittedAt: event.time, justification, ...(ticketRef ? { ticket: ticketRef } : {}) });
      const requests = this.bySubject.get(subject.id) ?? new Set<string>();
      requests.add(requestId);
      this.bySubject.set(subject.id, requests);
      return;
    }
    const known = this.facts.get(requestId);
    if (!known || known.endedAt !== undefined) return;
    if (isEvent(event, ApprovalRequestApproved) || isEvent(event, ApprovalBreakGlassGranted)) {
      this.facts.set(requestId, { ...known, endedAt: event.time, grants: event.data.grants });
    } else if (isEvent(event, ApprovalRequestDenied)) {
      this.facts.set(requestId, { ...known, endedAt: event.time, deniedReasons: event.data.reasons });
    } else if (isEvent(event, RequestWithdrawn)) {
      this.facts.set(requestId, { ...known, endedAt: event.time });
    }
  }

  factsOf(requestId: string): RequestFacts | undefined {
    return this.facts.get(requestId);
  }

  requestsOfSubject(subjectId: string): readonly string[] {
    return [...(this.bySubject.get(subjectId) ?? [])];
  }

  /** Everything the index holds, in the order it was folded (what a snapshot of it writes). */
  held(): { readonly facts: ReadonlyMap<string, RequestFacts>; readonly bySubject: ReadonlyMap<string, ReadonlySet<string>> } {
    return { facts: this.facts, bySubject: this.bySubject };
  }

  /** Takes over what a snapshot held, into an index that holds nothing yet. */
  restore(facts: Iterable<readonly [string, RequestFacts]>, bySubject: Iterable<readonly [string, Set<string>]>): void {
    for (const [requestId, known] of facts) this.facts.set(requestId, known);
    for (const [subjectId, requests] of bySubject) this.bySubject.set(subjectId, requests);
  }
}

export interface ScopedEntitlement {
  readonly entitlementId: string;
  readonly name?: string;
  readonly systemId?: string;
  readonly environment?: string;
  readonly privileges: readonly string[];
  readonly sensitivity?: string;
  readonly ownerId?: string;
  /** The catalogue's own cap on any grant of it. */
  readonly maxDuration?: string;
  /** Present when the catalogue the service holds does not know the entitlement (any more). */
  readonly unknown?: true;
}

export interface LineageEntry {
  readonly requestId: string;
  readonly submittedAt: string;
  readonly status: RequestStatus;
  readonly endedAt?: string;
  /** The entitlements that request shares with this one. */
  readonly entitlementIds: readonly string[];
  readonly grants?: readonly { readonly grantId: string; readonly entitlementId: string; readonly expiresAt: string }[];
  readonly deniedReasons?: readonly string[];
}

/** Exactly what an approver is asked to approve, and what came before it. */
export interface TaskScope {
  readonly subject: { readonly id: string; readonly kind: string };
  readonly requesterId: string;
  readonly entitlements: readonly ScopedEntitlement[];
  readonly accessPackageId?: string;
  readonly duration?: string;
  readonly endsAt?: string;
  /** The longest any grant of the request may last: the policy's maximum (entitlements may cap it further). */
  readonly maxDuration?: string;
  readonly justification?: string;
  readonly ticket?: TicketRef;
  readonly breakGlass: boolean;
  readonly submittedAt?: string;
  readonly risk: { readonly score: number; readonly factors: readonly { readonly id: string; readonly weight: number; readonly description: string }[] };
  readonly sodConflicts: readonly SodConflict[];
  readonly decision?: {
    readonly decisionId: string;
    readonly reasons: readonly string[];
    readonly matchedRules: readonly string[];
    readonly bundleDigest: string;
  };
  /** Earlier requests of the same subject for any of the same entitlements, newest first: how each ended, and when. */
  readonly lineage: readonly LineageEntry[];
}

const LINEAGE_LIMIT = 20;

/**
 * The scope of a request as its approver sees it, from the approval service's own state alone: the request and its
 * submission, the policy decision, the catalogue, and the subject's earlier requests for the same entitlements.
 */
export const taskScopeOf = (
  requestId: string,
  state: RequestApprovalState,
  index: InboxIndex,
  directory: Directory,
  stateOfRequest: (requestId: string) => RequestApprovalState,
): TaskScope | undefined => {
  const { request, decision } = state;
  if (!request) return undefined;
  const facts = index.factsOf(requestId);
  const entitlementIds = requestedEntitlementIds(request, directory);
  const wanted = new Set(entitlementIds);
  const entitlements = entitlementIds.map((entitlementId): ScopedEntitlement => {
    const entitlement = directory.entitlements.get(entitlementId);
    if (!entitlement) return { entitlementId, privileges: [], unknown: true };
    return {
      entitlementId,
      name: entitlement.name,
      systemId: entitlement.systemId,
      environment: entitlement.environment,
      privileges: entitlement.privileges,
      sensitivity: entitlement.sensitivity,
      ownerId: entitlement.ownerId,
      maxDuration: entitlement.maxDuration,
    };
  });

  const lineage = index
    .requestsOfSubject(request.subject.id)
    .filter((other) => other !== requestId)
    .flatMap((other): LineageEntry[] => {
      const otherState = stateOfRequest(other);
      const otherFacts = index.factsOf(other);
      if (!otherState.request || !otherFacts) return [];
      const shared = requestedEntitlementIds(otherState.request, directory).filter((id) => wanted.has(id));
      if (shared.length === 0) return [];
      return [
        {
          requestId: other,
          submittedAt: otherFacts.submittedAt,
          status: statusOf(otherState),
          ...(otherFacts.endedAt !== undefined ? { endedAt: otherFacts.endedAt } : {}),
          entitlementIds: shared,
          ...(otherFacts.grants ? { grants: otherFacts.grants.filter((grant) => wanted.has(grant.entitlementId)) } : {}),
          ...(otherFacts.deniedReasons ? { deniedReasons: otherFacts.deniedReasons } : {}),
        },
      ];
    })
    .sort((a, b) => b.submittedAt.localeCompare(a.submittedAt) || a.requestId.localeCompare(b.requestId))
    .slice(0, LINEAGE_LIMIT);

  return {
    subject: { id: request.subject.id, kind: request.subject.kind },
    requesterId: request.requesterId,
    entitlements,
    ...('accessPackageId' in request.items ? { accessPackageId: request.items.accessPackageId } : {}),
    ...(request.duration !== undefined ? { duration: request.duration } : {}),
    ...(request.endsAt !== undefined ? { endsAt: request.endsAt } : {}),
    ...(decision ? { maxDuration: decision.data.constraints.maxDuration } : {}),
    ...(facts ? { justification: facts.justification, submittedAt: facts.submittedAt } : {}),
    ...(facts?.ticket ? { ticket: facts.ticket } : {}),
    breakGlass: request.incidentRef !== undefined,
    risk: decision ? { score: decision.data.risk.score, factors: decision.data.risk.factors } : { score: 0, factors: [] },
    sodConflicts: decision?.data.sodConflicts ?? [],
    ...(decision
      ? {
          decision: {
            decisionId: decision.data.decisionId,
            reasons: decision.data.reasons,
            matchedRules: decision.data.matchedRules,
            bundleDigest: decision.data.bundleDigest,
          },
        }
      : {}),
    lineage,
  };
};
