import type { ApprovalStage } from '@grantline/contracts';
import { statusOf } from './approval.state';
import type { RequestApprovalState, SubmittedRequest } from './approval.state';
import type { Directory } from './directory';

/**
 * Something routing would read from the directory that it does not hold yet. Identities, the catalogue, requests
 * and decisions arrive on different topics (different partitions), so a decision can be consumed before the
 * identity or catalogue it depends on, even though those were published first.
 */
export type DirectoryGap =
  /** The beneficiary's record (its manager, or the owner of record of an NHI). */
  | { readonly kind: 'identity'; readonly identityId: string; readonly role: 'beneficiary' }
  /** The owner of an NHI beneficiary, whose manager answers for the NHI under the `manager` resolver. */
  | { readonly kind: 'identity'; readonly identityId: string; readonly role: 'nhi_owner' }
  /** A requested access package: its entitlements are unknown until the catalogue lists it. */
  | { readonly kind: 'access_package'; readonly accessPackageId: string }
  /** A requested entitlement: its owner and maximum duration come from the catalogue. */
  | { readonly kind: 'entitlement'; readonly entitlementId: string };

/** True once the directory holds what the gap names. */
export const isKnown = (directory: Directory, gap: DirectoryGap): boolean => {
  switch (gap.kind) {
    case 'identity':
      return directory.identities.has(gap.identityId);
    case 'access_package':
      return directory.accessPackages.has(gap.accessPackageId);
    case 'entitlement':
      return directory.entitlements.has(gap.entitlementId);
  }
};

/** The route command would act now: request and decision known, nothing routed and nothing ended yet. */
export const awaitsRoute = (state: RequestApprovalState): boolean =>
  state.request !== undefined && state.decision !== undefined && statusOf(state) === 'pending' && state.tasks.length === 0;

/** The catalogue entries a grant is planned from: the access package first (it names the entitlements), then each entitlement. */
const catalogueGaps = (request: SubmittedRequest, directory: Directory): DirectoryGap[] => {
  let entitlementIds: readonly string[];
  if ('entitlementIds' in request.items) {
    entitlementIds = request.items.entitlementIds;
  } else {
    const pkg = directory.accessPackages.get(request.items.accessPackageId);
    if (!pkg) return [{ kind: 'access_package', accessPackageId: request.items.accessPackageId }];
    entitlementIds = pkg.entitlementIds;
  }
  return [...new Set(entitlementIds)]
    .filter((entitlementId) => !directory.entitlements.has(entitlementId))
    .map((entitlementId) => ({ kind: 'entitlement', entitlementId }));
};

/** What resolving one stage reads (see candidatesOf and selfRelationOf in approver-resolution). */
const stageGaps = (stage: ApprovalStage, request: SubmittedRequest, directory: Directory): DirectoryGap[] => {
  // Pre-resolved approver lists need nothing from the directory.
  const resolvers = new Set(stage.approvers.filter((spec) => spec.resolvedIdentityIds === undefined).map((spec) => spec.resolver));
  const nhi = request.subject.kind !== 'human';
  const gaps: DirectoryGap[] = [];
  // `manager` starts from the beneficiary's record. For an NHI every stage does: `nhi_owner` resolves to its owner,
  // and every other stage must exclude that owner (four eyes), which only the NHI's record names.
  const beneficiary = directory.identities.get(request.subject.id);
  if ((resolvers.has('manager') || nhi) && !beneficiary) {
    gaps.push({ kind: 'identity', identityId: request.subject.id, role: 'beneficiary' });
  }
  if (resolvers.has('manager') && beneficiary !== undefined && beneficiary.kind !== 'human' && beneficiary.ownerId !== undefined) {
    if (!directory.identities.has(beneficiary.ownerId)) gaps.push({ kind: 'identity', identityId: beneficiary.ownerId, role: 'nhi_owner' });
  }
  if (resolvers.has('resource_owner')) gaps.push(...catalogueGaps(request, directory));
  return gaps;
};

/**
 * What `route` would still miss from the directory for this request; empty when it can route now (or has
 * nothing to do). Only what changes the outcome counts:
 * - a denial reads nothing;
 * - break-glass and auto-approval plan grants from the catalogue (an unknown access package would deny the
 *   request, an unknown entitlement would lose its maximum duration), but not from identities: break-glass's
 *   post-incident reviewer falls back to the security group, which is better than delaying an emergency;
 * - an approval route resolves its first stage only (later stages are opened on the previous stage's
 *   approval, long after): see stageGaps. Group, security and third-party-risk members cannot be waited for
 *   (nothing says who is missing from a group).
 * A human's manager need not be known itself: unknown identities count as active.
 */
export const missingForRoute = (state: RequestApprovalState, directory: Directory): DirectoryGap[] => {
  if (!awaitsRoute(state)) return [];
  const { request, decision } = state;
  if (!request || !decision) return [];
  const { data } = decision;
  if (data.effect === 'deny') return [];
  if ((request.incidentRef !== undefined && data.constraints.breakGlassAllowed) || data.effect === 'auto_approve') return catalogueGaps(request, directory);
  const first = data.route?.stages[0];
  return first ? stageGaps(first, request, directory) : [];
};
