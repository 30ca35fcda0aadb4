import { Injectable } from '@nestjs/common';
import { concealed, forbidden, hasAnyRole } from '@grantline/http-edge';
import type { GrantlineRole, Principal } from '@grantline/http-edge';
import { AuditQueryService } from '../query/audit-query.service';
import type { GrantExplanationView, RequestTimelineView } from '../query/audit-query.service';

/** Roles that read every audit record: the security team and auditors. */
export const READS_ALL_AUDIT_RECORDS: readonly GrantlineRole[] = ['auditor', 'security'];

/** How a member stands to the people an audit record concerns (docs/authorization.md, "Relations"). */
export type AuditRelation = 'requester' | 'beneficiary' | 'manager' | 'nhi-owner';

/** The people a record concerns, read from the record itself (never from the caller). */
export interface ConcernedPeople {
  readonly requesterIds: readonly string[];
  /** The request's subject, the grant's holder. */
  readonly beneficiaryIds: readonly string[];
}

const distinct = (ids: readonly (string | undefined)[]): string[] => [...new Set(ids.filter((id): id is string => id !== undefined))];

/** From the timeline's own entries: the submission names requester and subject, a created grant its holder. */
export function concernedByTimeline(view: RequestTimelineView): ConcernedPeople {
  const requesterIds: (string | undefined)[] = [];
  const beneficiaryIds: (string | undefined)[] = [];
  const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
  for (const entry of view.entries) {
    if (entry.type === 'iga.request.submitted.v2') {
      requesterIds.push(text(entry.details['requesterId']));
      beneficiaryIds.push(text(entry.details['subjectId']));
    }
    if (entry.type === 'iga.grant.created.v1') beneficiaryIds.push(text(entry.details['beneficiaryId']));
  }
  return { requesterIds: distinct(requesterIds), beneficiaryIds: distinct(beneficiaryIds) };
}

/** From the explanation: the request's requester and subject, and the grant's holder. */
export function concernedByExplanation(view: GrantExplanationView): ConcernedPeople {
  return { requesterIds: distinct([view.request?.requesterId]), beneficiaryIds: distinct([view.grant.beneficiaryId, view.request?.subject.id]) };
}

/**
 * Object-level authorization of the audit's records (no BOLA). Auditors and security read everything; a member reads
 * the records of requests and grants that concern them (as requester or beneficiary) or that concern a person they
 * manage or a non-human identity they own, as the identity source states it (the identity-relations projection).
 * Anyone else is told what an unknown object is told (a recorded 404); listing someone else's grants is a recorded
 * 403, since the subject id is the caller's own input and hiding nothing.
 */
@Injectable()
export class AuditAccess {
  constructor(private readonly queries: AuditQueryService) {}

  readsAll(principal: Principal): boolean {
    return hasAnyRole(principal, READS_ALL_AUDIT_RECORDS);
  }

  /** Only a person (a member) holds relations: a workload reads audit records by role or not at all. */
  async relationsTo(principal: Principal, concerned: ConcernedPeople): Promise<Set<AuditRelation>> {
    const relations = new Set<AuditRelation>();
    if (!principal.roles.has('member')) return relations;
    const me = principal.subject;
    if (concerned.requesterIds.includes(me)) relations.add('requester');
    if (concerned.beneficiaryIds.includes(me)) relations.add('beneficiary');
    const others = concerned.beneficiaryIds.filter((id) => id !== me);
    if (others.length === 0 || !(await this.holdsDirectoryRelations(me))) return relations;
    for (const beneficiaryId of others) {
      const responsible = await this.queries.identityRelations(beneficiaryId);
      if (responsible?.managerId === me) relations.add('manager');
      if (responsible?.ownerId === me) relations.add('nhi-owner');
    }
    return relations;
  }

  /**
   * An offboarding event does not list the people the leaver managed, so a leaver's manager and owner relations end
   * here: a token issued before the offboarding must not keep reading their former reports' records.
   */
  private async holdsDirectoryRelations(identityId: string): Promise<boolean> {
    return (await this.queries.identityRelations(identityId))?.status !== 'offboarded';
  }

  /** Throws the answer an unknown request gets unless the caller may read this timeline. */
  async assertTimelineVisible(principal: Principal, requestId: string, view: RequestTimelineView | undefined): Promise<RequestTimelineView> {
    const unknown = `Unknown request ${requestId}`;
    if (view === undefined) throw concealed(principal, `request:${requestId}`, unknown, 'unknown request');
    if (this.readsAll(principal) || (await this.relationsTo(principal, concernedByTimeline(view))).size > 0) return view;
    throw concealed(principal, `request:${requestId}`, unknown, "not the requester, the beneficiary, or the beneficiary's manager or owner of record");
  }

  /** Throws the answer an unknown grant gets unless the caller may read this explanation. */
  async assertExplanationVisible(principal: Principal, grantId: string, view: GrantExplanationView | undefined): Promise<GrantExplanationView> {
    const unknown = `Unknown grant ${grantId}`;
    if (view === undefined) throw concealed(principal, `grant:${grantId}`, unknown, 'unknown grant');
    if (this.readsAll(principal) || (await this.relationsTo(principal, concernedByExplanation(view))).size > 0) return view;
    throw concealed(principal, `grant:${grantId}`, unknown, "not the requester, the beneficiary, or the beneficiary's manager or owner of record");
  }

  /**
   * Who has access: auditors and security for anyone and any entitlement; a member only for themselves, a person
   * they manage or a non-human identity they own. Decided on the raw query, before it is validated, so a refused
   * caller learns nothing about what a valid query looks like.
   */
  async assertMayListGrants(principal: Principal, query: Readonly<Record<string, unknown>>): Promise<void> {
    if (this.readsAll(principal)) return;
    const subjectId = query['subjectId'];
    if (typeof subjectId === 'string' && subjectId !== '') {
      if ((await this.relationsTo(principal, { requesterIds: [], beneficiaryIds: [subjectId] })).size > 0) return;
      throw forbidden(
        principal,
        'A member may list only the grants of themselves, a person they manage or a non-human identity they own',
        `identity:${subjectId}`,
      );
    }
    const entitlementId = query['entitlementId'];
    if (entitlementId !== undefined) {
      throw forbidden(
        principal,
        "Listing an entitlement's holders requires one of the roles auditor, security",
        typeof entitlementId === 'string' ? `entitlement:${entitlementId}` : undefined,
      );
    }
    throw forbidden(principal, 'A member lists grants by subjectId: themselves, a person they manage or a non-human identity they own');
  }
}
