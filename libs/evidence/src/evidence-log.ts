import {
  ApprovalBreakGlassGranted,
  ApprovalDecisionRecorded,
  ApprovalRequestApproved,
  ApprovalRequestDenied,
  ApprovalReviewOpened,
  ApprovalSelfApprovalBlocked,
  CatalogPublished,
  GrantActivated,
  GrantCreated,
  GrantCredentialIssued,
  GrantDeprovisioningRequested,
  GrantProvisioningFailed,
  GrantRevoked,
  IdentityOffboarded,
  IdentityOwnerChanged,
  IdentityUpserted,
  PolicyDecisionRecorded,
  RequestSubmitted,
  RequestWithdrawn,
  RevocationRequested,
  TOPICS,
  TimerFired,
  isEvent,
} from '@grantline/contracts';
import type {
  ApprovalDecisionRecordedData,
  BreakGlassGrantedData,
  CredentialIssuedData,
  DecisionRecordedData,
  Entitlement,
  GrantCreatedData,
  IdentityKind,
  RequestApprovedData,
  RequestDeniedData,
  RequestSubmittedData,
  SelfApprovalBlockedData,
} from '@grantline/contracts';
import type { EventLink, PositionedEvent } from './evidence-pack.model';

/** The topics whose events the evidence is folded from. */
export const EVIDENCE_TOPICS: readonly string[] = [
  TOPICS.catalog,
  TOPICS.identities,
  TOPICS.requests,
  TOPICS.decisions,
  TOPICS.approvals,
  TOPICS.grants,
  TOPICS.schedule,
];

export interface Fact<TData> {
  readonly data: TData;
  readonly link: EventLink;
}

export interface GrantFacts {
  readonly grantId: string;
  created?: Fact<GrantCreatedData>;
  readonly revocationsAsked: Fact<{ by: string; kind: 'revocation' }>[];
  activated?: Fact<{ activatedAt: string; expiresAt: string }>;
  deprovisioningRequested?: Fact<{ reason: string }>;
  revoked?: Fact<{ reason: string; revokedAt: string }>;
  terminalFailure?: Fact<{ operation: string; reason: string }>;
  expiryTimer?: Fact<{ firedAt: string }>;
}

export interface RequestFacts {
  readonly requestId: string;
  submitted?: Fact<RequestSubmittedData>;
  decision?: Fact<DecisionRecordedData>;
  approved?: Fact<RequestApprovedData>;
  breakGlass?: Fact<BreakGlassGrantedData>;
  denied?: Fact<RequestDeniedData>;
  readonly approvalDecisions: Fact<ApprovalDecisionRecordedData>[];
  readonly selfApprovalsBlocked: Fact<SelfApprovalBlockedData>[];
  readonly reviewsOpened: Fact<{ reviewId: string; kind: string }>[];
  readonly removalsAsked: Fact<{ by: string; kind: 'withdrawal' | 'revocation' }>[];
}

export type IdentityStatus = 'active' | 'suspended' | 'offboarded';

export interface IdentityFacts {
  readonly identityId: string;
  kind?: IdentityKind;
  /** Every owner of record of a non-human identity, in log order (the identities topic is keyed by identity). */
  readonly owners: { ownerId: string; at: number; link: EventLink }[];
  /** Every status the identity was given, in log order. */
  readonly statuses: { status: IdentityStatus; at: number; link: EventLink; reason?: string; ownedIdentityIds?: readonly string[] }[];
  /** Identity events (upserts, owner changes, offboardings). */
  readonly events: EventLink[];
}

export interface CatalogueEntry {
  readonly entitlement: Entitlement;
  readonly catalogVersion: number;
  readonly link: EventLink;
}

export const linkOf = ({ event, position }: PositionedEvent): EventLink => ({
  id: event.id,
  type: event.type,
  topic: position.topic,
  partition: position.partition,
  offset: position.offset,
  time: event.time,
});

export const millis = (iso: string): number => Date.parse(iso);

/**
 * The facts the evidence needs, folded from every event of the log in any order across topics (each topic's own
 * order kept): nothing is judged here, so events of different topics may arrive interleaved as a replay hands them
 * over. Pure: no clock, no I/O. Feed it with `add`, then build the pack with `buildEvidencePack`.
 */
export class EvidenceLog {
  readonly grants = new Map<string, GrantFacts>();
  readonly requests = new Map<string, RequestFacts>();
  readonly identities = new Map<string, IdentityFacts>();
  readonly entitlements = new Map<string, CatalogueEntry>();
  readonly credentials: Fact<CredentialIssuedData>[] = [];
  /** Per topic and partition, the last offset folded. */
  readonly through: Record<string, Record<string, string>> = {};
  events = 0;
  private readonly seen = new Set<string>();
  /** The kind each request's subject was declared with, for identities the identity source never described. */
  private readonly subjectKinds = new Map<string, IdentityKind>();

  add(positioned: PositionedEvent): void {
    const { event, position } = positioned;
    const partitions = (this.through[position.topic] ??= {});
    const last = partitions[String(position.partition)];
    if (last === undefined || BigInt(position.offset) > BigInt(last)) partitions[String(position.partition)] = position.offset;
    // A redelivered or republished event (same id) is one fact.
    const key = `${event.type}|${event.id}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.events += 1;
    const link = linkOf(positioned);
    const at = millis(event.time);

    if (isEvent(event, CatalogPublished)) {
      for (const entitlement of event.data.entitlements) {
        const known = this.entitlements.get(entitlement.entitlementId);
        if (known === undefined || known.catalogVersion <= event.data.catalogVersion) {
          this.entitlements.set(entitlement.entitlementId, { entitlement, catalogVersion: event.data.catalogVersion, link });
        }
      }
    } else if (isEvent(event, IdentityUpserted)) {
      const { identity } = event.data;
      const facts = this.identity(identity.identityId);
      facts.kind = identity.kind;
      facts.events.push(link);
      if (identity.kind !== 'human' && facts.owners.at(-1)?.ownerId !== identity.ownerId) facts.owners.push({ ownerId: identity.ownerId, at, link });
      if (facts.statuses.at(-1)?.status !== identity.status) facts.statuses.push({ status: identity.status, at, link });
    } else if (isEvent(event, IdentityOwnerChanged)) {
      const facts = this.identity(event.data.identityId);
      facts.events.push(link);
      facts.owners.push({ ownerId: event.data.newOwnerId, at, link });
    } else if (isEvent(event, IdentityOffboarded)) {
      const facts = this.identity(event.data.identityId);
      facts.kind ??= event.data.kind;
      facts.events.push(link);
      facts.statuses.push({
        status: 'offboarded',
        at: Math.max(at, millis(event.data.effectiveAt)),
        link,
        reason: event.data.reason,
        ownedIdentityIds: event.data.ownedIdentityIds,
      });
    } else if (isEvent(event, RequestSubmitted)) {
      this.request(event.data.requestId).submitted = { data: event.data, link };
      if (!this.subjectKinds.has(event.data.subject.id)) this.subjectKinds.set(event.data.subject.id, event.data.subject.kind);
    } else if (isEvent(event, RequestWithdrawn)) {
      this.request(event.data.requestId).removalsAsked.push({ data: { by: event.data.withdrawnBy, kind: 'withdrawal' }, link });
    } else if (isEvent(event, RevocationRequested)) {
      const asked = { data: { by: event.data.requestedBy, kind: 'revocation' as const }, link };
      // A grant's revocation may be read before the grant (another topic): kept by grant, joined when judged.
      if ('requestId' in event.data) this.request(event.data.requestId).removalsAsked.push(asked);
      else this.grant(event.data.grantId).revocationsAsked.push(asked);
    } else if (isEvent(event, PolicyDecisionRecorded)) {
      this.request(event.data.requestId).decision = { data: event.data, link };
    } else if (isEvent(event, ApprovalDecisionRecorded)) {
      this.request(event.data.requestId).approvalDecisions.push({ data: event.data, link });
    } else if (isEvent(event, ApprovalSelfApprovalBlocked)) {
      this.request(event.data.requestId).selfApprovalsBlocked.push({ data: event.data, link });
    } else if (isEvent(event, ApprovalRequestApproved)) {
      this.request(event.data.requestId).approved = { data: event.data, link };
    } else if (isEvent(event, ApprovalBreakGlassGranted)) {
      this.request(event.data.requestId).breakGlass = { data: event.data, link };
    } else if (isEvent(event, ApprovalRequestDenied)) {
      this.request(event.data.requestId).denied = { data: event.data, link };
    } else if (isEvent(event, ApprovalReviewOpened)) {
      if (event.data.requestId !== undefined) this.request(event.data.requestId).reviewsOpened.push({ data: event.data, link });
    } else if (isEvent(event, GrantCreated)) {
      this.grant(event.data.grantId).created = { data: event.data, link };
    } else if (isEvent(event, GrantActivated)) {
      this.grant(event.data.grantId).activated ??= { data: event.data, link };
    } else if (isEvent(event, GrantDeprovisioningRequested)) {
      this.grant(event.data.grantId).deprovisioningRequested ??= { data: event.data, link };
    } else if (isEvent(event, GrantRevoked)) {
      this.grant(event.data.grantId).revoked ??= { data: event.data, link };
    } else if (isEvent(event, GrantProvisioningFailed)) {
      if (event.data.terminal) this.grant(event.data.grantId).terminalFailure = { data: event.data, link };
    } else if (isEvent(event, GrantCredentialIssued)) {
      this.credentials.push({ data: event.data, link });
    } else if (isEvent(event, TimerFired)) {
      const { grantId } = event.data.target;
      if (event.data.kind === 'grant_expiry' && grantId !== undefined) this.grant(grantId).expiryTimer ??= { data: event.data, link };
    }
  }

  addAll(events: Iterable<PositionedEvent>): this {
    for (const event of events) this.add(event);
    return this;
  }

  /** The kind of an identity: from the identity source, else from a request naming it as subject. */
  kindOf(identityId: string): IdentityKind | undefined {
    return this.identities.get(identityId)?.kind ?? this.subjectKinds.get(identityId);
  }

  private grant(grantId: string): GrantFacts {
    let facts = this.grants.get(grantId);
    if (facts === undefined) this.grants.set(grantId, (facts = { grantId, revocationsAsked: [] }));
    return facts;
  }

  private request(requestId: string): RequestFacts {
    let facts = this.requests.get(requestId);
    if (facts === undefined) {
      facts = { requestId, approvalDecisions: [], selfApprovalsBlocked: [], reviewsOpened: [], removalsAsked: [] };
      this.requests.set(requestId, facts);
    }
    return facts;
  }

  private identity(identityId: string): IdentityFacts {
    let facts = this.identities.get(identityId);
    if (facts === undefined) this.identities.set(identityId, (facts = { identityId, owners: [], statuses: [], events: [] }));
    return facts;
  }
}
