import { SnapshotUnusableError, decodeJsonParts, encodeJsonParts, isObject, pairsOf, stringsOf } from '@grantline/messaging';
import type { StateSnapshotCodec } from '@grantline/messaging';
import { ProvisioningState } from '../domain';
import type { GrantState, ProvisioningStateParts } from '../domain';

const PARTS = ['grants', 'entitlements', 'identities', 'leavers', 'ownershipTransfers', 'leaverAccountSystems', 'deactivations'] as const;

/** The grants, checked for what `restore` derives the indexes from. */
function grantsOf(part: readonly unknown[]): [string, GrantState][] {
  const grants = pairsOf<GrantState>(part, 'grants', isObject);
  for (const [grantId, grant] of grants) {
    if (typeof grant.requestId !== 'string' || typeof grant.beneficiaryId !== 'string')
      throw new SnapshotUnusableError(`its grant ${grantId} names no request or beneficiary`);
  }
  return grants;
}

/**
 * The provisioning state in a snapshot (ADR 0037): its maps and the leavers as JSON entries in slices
 * (`encodeJsonParts`), so a million grants never make one string; the request and beneficiary indexes are derived
 * again on restore. Every value the state holds is plain JSON (strings, numbers, booleans, records, arrays).
 *
 * Bump `version` whenever the fold changes (ProvisioningState.apply and what it folds with: evolveGrant,
 * evolveRotation, withShortenedExpiry, evolveDeactivation, the catalogue and identity folds) or the encoding does
 * (a part, a field of a value, how a part is checked): a snapshot of another version is never restored, the log is
 * replayed from the beginning instead.
 */
export const provisioningStateCodec: StateSnapshotCodec<ProvisioningState> = {
  version: 'provisioning-state/1',
  empty: () => new ProvisioningState(),
  // The very method the replay folds with (ReplayedStateService.applyReplayed → state.apply), so the compactor's
  // state is the live one.
  apply: (state, event) => state.apply(event),
  encode: (state) => encodeJsonParts(state.parts()),
  decode: async (frames, into) => {
    // Everything is read and checked before `into` is touched: a bad snapshot leaves it as it was.
    const parts = await decodeJsonParts(frames, PARTS);
    const restored: ProvisioningStateParts = {
      grants: grantsOf(parts.grants),
      entitlements: pairsOf(parts.entitlements, 'entitlements', isObject),
      identities: pairsOf(parts.identities, 'identities', isObject),
      leavers: stringsOf(parts.leavers, 'leavers'),
      ownershipTransfers: pairsOf(parts.ownershipTransfers, 'ownershipTransfers', isObject),
      leaverAccountSystems: pairsOf(parts.leaverAccountSystems, 'leaverAccountSystems', isObject),
      deactivations: pairsOf(parts.deactivations, 'deactivations', isObject),
    };
    into.restore(restored);
  },
};
