import type { RequestApprovalState } from './approval.state';
import type { Directory } from './directory';

/**
 * How an identity stands to a request, read from the request itself (as submitted on the log) and from the
 * directory the identity source maintains: never from what a caller says about themselves.
 */
export type RequestRelation = 'requester' | 'beneficiary' | 'manager' | 'nhi_owner' | 'approver';

/**
 * Every relation `identityId` has to the request. `approver` covers current and past approvers: anyone a task of
 * the request was ever routed to (escalated tasks keep the earlier task and its list) or who answered one.
 */
export const relationsTo = (state: RequestApprovalState, directory: Directory, identityId: string): ReadonlySet<RequestRelation> => {
  const relations = new Set<RequestRelation>();
  const { request } = state;
  if (request !== undefined) {
    if (request.requesterId === identityId) relations.add('requester');
    if (request.subject.id === identityId) relations.add('beneficiary');
    const beneficiary = directory.identities.get(request.subject.id);
    if (beneficiary?.kind === 'human' && beneficiary.managerId === identityId) relations.add('manager');
    if (beneficiary !== undefined && beneficiary.kind !== 'human' && beneficiary.ownerId === identityId) relations.add('nhi_owner');
  }
  const approver = state.tasks.some((task) => task.eligibleApproverIds.includes(identityId) || task.decisions.some((d) => d.approverId === identityId));
  if (approver) relations.add('approver');
  return relations;
};

/** Whether the identity has any relation that lets it see the request (roles are the edge's business). */
export const isRelatedTo = (state: RequestApprovalState, directory: Directory, identityId: string): boolean =>
  relationsTo(state, directory, identityId).size > 0;
