import type { ApprovalStage, ApproverSpec } from '@grantline/contracts';
import type { SubmittedRequest } from './approval.state';
import type { ApprovalPolicy } from './approval.policy';
import { groupMembers, isActive } from './directory';
import type { Directory } from './directory';

export type SelfRelation = 'requester' | 'beneficiary' | 'nhi_owner';

/** The owner of record of the beneficiary when it is a non-human identity. */
export const nhiOwnerOf = (request: SubmittedRequest, directory: Directory): string | undefined =>
  request.subject.kind === 'human' ? undefined : directory.identities.get(request.subject.id)?.ownerId;

/**
 * Why this person may never approve this request, if so. The NHI owner of record is exempt only in a stage
 * whose route explicitly asks for the `nhi_owner` resolver: there the policy names the accountable owner as
 * the approver (and they are still refused if they are the requester).
 */
export const selfRelationOf = (approverId: string, request: SubmittedRequest, directory: Directory, ownerOfRecordStage: boolean): SelfRelation | undefined => {
  if (approverId === request.requesterId) return 'requester';
  if (approverId === request.subject.id) return 'beneficiary';
  if (!ownerOfRecordStage && approverId === nhiOwnerOf(request, directory)) return 'nhi_owner';
  return undefined;
};

export const isOwnerOfRecordStage = (stage: Pick<ApprovalStage, 'approvers'>): boolean => stage.approvers.some((approver) => approver.resolver === 'nhi_owner');

/** The entitlements a request asks for: listed, or expanded from the access package (empty when unknown). */
export const requestedEntitlementIds = (request: SubmittedRequest, directory: Directory): string[] =>
  'entitlementIds' in request.items
    ? [...request.items.entitlementIds]
    : [...(directory.accessPackages.get(request.items.accessPackageId)?.entitlementIds ?? [])];

const candidatesOf = (spec: ApproverSpec, request: SubmittedRequest, directory: Directory, policy: ApprovalPolicy): string[] => {
  if (spec.resolvedIdentityIds !== undefined) return [...spec.resolvedIdentityIds];
  switch (spec.resolver) {
    case 'manager': {
      const beneficiary = directory.identities.get(request.subject.id);
      // An NHI has no manager; its owner's manager answers for it.
      const person = beneficiary?.kind === 'human' ? beneficiary : directory.identities.get(beneficiary?.ownerId ?? '');
      return person?.managerId !== undefined ? [person.managerId] : [];
    }
    case 'resource_owner':
      return requestedEntitlementIds(request, directory).flatMap((id) => {
        const entitlement = directory.entitlements.get(id);
        return entitlement ? [entitlement.ownerId] : [];
      });
    case 'nhi_owner': {
      const owner = nhiOwnerOf(request, directory);
      return owner !== undefined ? [owner] : [];
    }
    case 'group':
      return groupMembers(directory, spec.group ?? '', policy.groups);
    case 'security':
      return groupMembers(directory, policy.securityGroup, policy.groups);
    case 'third_party_risk':
      return groupMembers(directory, policy.thirdPartyRiskGroup, policy.groups);
  }
};

export interface ResolvedStage {
  readonly eligibleApproverIds: readonly string[];
  readonly quorum: number;
  /** True when the route named nobody who may approve and the security group stands in. */
  readonly fellBackToSecurity: boolean;
}

/** Who may approve in the security group for this request (never the requester, beneficiary or NHI owner). */
export const eligibleSecurityMembers = (request: SubmittedRequest, directory: Directory, policy: ApprovalPolicy, exclude: readonly string[] = []): string[] =>
  groupMembers(directory, policy.securityGroup, policy.groups).filter(
    (id) => selfRelationOf(id, request, directory, false) === undefined && !exclude.includes(id),
  );

/**
 * The distinct people who may approve a stage: everyone its approver specs resolve to, minus anyone in a
 * self relation to the request and anyone no longer active. When fewer remain than the quorum, the security
 * group fills in; `undefined` when even then the quorum cannot be met (the request cannot be routed).
 */
export const resolveStage = (stage: ApprovalStage, request: SubmittedRequest, directory: Directory, policy: ApprovalPolicy): ResolvedStage | undefined => {
  const ownerOfRecordStage = isOwnerOfRecordStage(stage);
  const resolved = [...new Set(stage.approvers.flatMap((spec) => candidatesOf(spec, request, directory, policy)))].filter(
    (id) => isActive(directory, id) && selfRelationOf(id, request, directory, ownerOfRecordStage) === undefined,
  );
  if (resolved.length >= stage.quorum) return { eligibleApproverIds: resolved, quorum: stage.quorum, fellBackToSecurity: false };
  const filled = [...new Set([...resolved, ...eligibleSecurityMembers(request, directory, policy)])];
  if (filled.length < stage.quorum) return undefined;
  return { eligibleApproverIds: filled, quorum: stage.quorum, fellBackToSecurity: true };
};
