import { Injectable } from '@nestjs/common';
import { concealed, forbidden, hasAnyRole } from '@grantline/http-edge';
import type { Principal } from '@grantline/http-edge';
import { CatalogService } from '../catalog/catalog.service';
import { IdentityDirectory } from '../status/request-status.store';
import type { RequestStatusView } from '../status/request-status.projection';

/** How a caller stands to a request, from the request itself and the identity directory, never from the caller. */
export type RequestRelation = 'requester' | 'beneficiary' | 'manager' | 'owner' | 'approver' | 'entitlement-owner';

/** The relations that let a member read a request. */
const READERS: readonly RequestRelation[] = ['requester', 'beneficiary', 'manager', 'owner', 'approver'];

/**
 * Object-level authorization of the intake's requests and grants (no BOLA). A caller who may not see a request gets
 * the answer an unknown request gets (404), so ids cannot be probed; a caller who may see it but not act on it gets
 * a 403. Both are recorded.
 */
@Injectable()
export class RequestAccess {
  constructor(
    private readonly directory: IdentityDirectory,
    private readonly catalog: CatalogService,
  ) {}

  async relationsTo(principal: Principal, view: RequestStatusView): Promise<Set<RequestRelation>> {
    const relations = new Set<RequestRelation>();
    const me = principal.subject;
    if (view.requesterId === me) relations.add('requester');
    if (view.subject.id === me) relations.add('beneficiary');
    if (view.approverIds?.includes(me)) relations.add('approver');
    const responsible = await this.directory.responsibleFor(view.subject.id);
    if (responsible.managerId === me) relations.add('manager');
    if (responsible.ownerId === me) relations.add('owner');
    const entitlementIds =
      'entitlementIds' in view.items ? view.items.entitlementIds : (this.catalog.accessPackage(view.items.accessPackageId)?.entitlementIds ?? []);
    if (entitlementIds.some((id) => this.catalog.entitlement(id)?.ownerId === me)) relations.add('entitlement-owner');
    return relations;
  }

  /** Read access: the people the request concerns, its approvers, security and auditors. Throws a concealing 404. */
  async assertVisible(principal: Principal, requestId: string, view: RequestStatusView | undefined): Promise<RequestStatusView> {
    return (await this.visible(principal, requestId, view)).view;
  }

  /** Withdraw: the requester or the beneficiary; anyone else who may see the request gets a 403, the rest a 404. */
  async assertMayWithdraw(principal: Principal, requestId: string, view: RequestStatusView | undefined): Promise<RequestStatusView> {
    const { view: visible, relations } = await this.visible(principal, requestId, view);
    if (relations.has('requester') || relations.has('beneficiary')) return visible;
    throw forbidden(principal, 'Only the requester or the beneficiary may withdraw a request', `request:${requestId}`);
  }

  /** The view if the caller may see it, with the caller's relations to it (read once). */
  private async visible(
    principal: Principal,
    requestId: string,
    view: RequestStatusView | undefined,
  ): Promise<{ view: RequestStatusView; relations: Set<RequestRelation> }> {
    const unknown = `No request ${requestId}`;
    if (view === undefined) throw concealed(principal, `request:${requestId}`, unknown, 'unknown request');
    const relations = await this.relationsTo(principal, view);
    if (hasAnyRole(principal, ['security', 'auditor'])) return { view, relations };
    if (READERS.some((relation) => relations.has(relation))) return { view, relations };
    throw concealed(principal, `request:${requestId}`, unknown, 'not the requester, the beneficiary, their manager or owner of record, or an approver');
  }

  /**
   * Revoke a grant: its beneficiary, the beneficiary's manager or the NHI's owner of record, the entitlement's owner,
   * or security. Removing access is always allowed to the people accountable for it; an auditor only reads.
   */
  async assertMayRevoke(principal: Principal, grantId: string, view: RequestStatusView | undefined, entitlementId?: string): Promise<void> {
    const unknown = `No grant ${grantId}`;
    if (hasAnyRole(principal, ['security'])) return;
    if (view === undefined) throw concealed(principal, `grant:${grantId}`, unknown, 'unknown grant');
    const relations = await this.relationsTo(principal, view);
    const grantEntitlement = view.grants.find((candidate) => candidate.grantId === grantId)?.entitlementId ?? entitlementId;
    const ownsEntitlement = grantEntitlement !== undefined && this.catalog.entitlement(grantEntitlement)?.ownerId === principal.subject;
    if (relations.has('beneficiary') || relations.has('manager') || relations.has('owner') || ownsEntitlement) return;
    if (relations.has('requester') || relations.has('approver') || hasAnyRole(principal, ['auditor'])) {
      throw forbidden(
        principal,
        "Only the grant's beneficiary, their manager or owner of record, the entitlement's owner or security may revoke it",
        `grant:${grantId}`,
      );
    }
    throw concealed(principal, `grant:${grantId}`, unknown, 'not related to the grant');
  }
}
