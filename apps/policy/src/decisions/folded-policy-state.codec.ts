import type { AccessPackage, Entitlement, Identity } from '@grantline/contracts';
import {
  SnapshotUnusableError,
  decodeJsonParts,
  encodeJsonParts,
  fill,
  isObject,
  isString,
  isStrings,
  pairsOf,
  setsAsArrays,
  setsOf,
  stringsOf,
} from '@grantline/messaging';
import type { StateSnapshotCodec } from '@grantline/messaging';
import type { CatalogSystem, CatalogView, HeldGrant, RecordedDecisionFact, UnmanagedAccess } from '../domain';
import { FoldedPolicyState } from './folded-policy-state';

const PARTS = [
  'identities',
  'grants',
  'grantsByBeneficiary',
  'catalog',
  'breakGlassUses',
  'breakGlassReviewOfRequest',
  'breakGlassCompletedReviews',
  'sodAccounts',
  'sodUnmanaged',
  'sodObservedAt',
  'recordedDecisions',
  'evaluatedCampaigns',
  'announcedDigests',
  'folded',
] as const;

/** The catalogue as one entry: it arrives whole in one event, so it is no larger than a record on the log. */
interface EncodedCatalog {
  readonly version: number;
  readonly digest: string;
  readonly systems: [string, CatalogSystem][];
  readonly entitlements: [string, Entitlement][];
  readonly accessPackages: [string, AccessPackage][];
}

function catalogOf(entries: readonly unknown[]): CatalogView | undefined {
  if (entries.length === 0) return undefined;
  const [encoded] = entries as [Partial<EncodedCatalog>];
  if (entries.length > 1 || !isObject(encoded) || typeof encoded.version !== 'number' || !isString(encoded.digest)) {
    throw new SnapshotUnusableError('part catalog does not hold one catalogue');
  }
  return {
    version: encoded.version,
    digest: encoded.digest,
    systems: new Map(pairsOf<CatalogSystem>(encoded.systems ?? [], 'catalog.systems', isObject)),
    entitlements: new Map(pairsOf<Entitlement>(encoded.entitlements ?? [], 'catalog.entitlements', isObject)),
    accessPackages: new Map(pairsOf<AccessPackage>(encoded.accessPackages ?? [], 'catalog.accessPackages', isObject)),
  };
}

function offsetsOf(pairs: readonly [string, string][]): [string, bigint][] {
  return pairs.map(([key, offset]) => {
    if (!/^\d+$/.test(offset)) throw new SnapshotUnusableError(`part folded holds the offset ${JSON.stringify(offset)} for ${key}`);
    return [key, BigInt(offset)];
  });
}

/**
 * The policy state as snapshot frames (ADR 0037): everything `FoldedPolicyState.apply` folds, the offsets it skips by
 * included (the catch-ups replay the topics from the beginning and rely on them). Maps are written as their entries
 * in iteration order, so a restored state iterates as the folded one did; every part is sliced by `encodeJsonParts`.
 */
export const policyStateCodec: StateSnapshotCodec<FoldedPolicyState> = {
  // Bump it whenever FoldedPolicyState.apply, the domain folds it calls (applyFact, applySodFact,
  // applyReviewReevaluationFact, applyBreakGlassReviewFact) or this encoding change: a snapshot of another version is
  // never restored, the log is replayed from the beginning instead.
  version: 'policy-state/1',
  empty: () => new FoldedPolicyState(),
  apply: (state, event, position) => {
    state.apply(event, position);
  },
  encode: (state) => {
    const { current, sod, recorded } = state;
    const { catalog, breakGlassReviews } = current;
    const encodedCatalog: EncodedCatalog[] = catalog
      ? [
          {
            version: catalog.version,
            digest: catalog.digest,
            systems: [...catalog.systems],
            entitlements: [...catalog.entitlements],
            accessPackages: [...catalog.accessPackages],
          },
        ]
      : [];
    return encodeJsonParts({
      identities: current.identities.entries(),
      grants: current.grants.entries(),
      grantsByBeneficiary: setsAsArrays(current.grantsByBeneficiary),
      catalog: encodedCatalog,
      breakGlassUses: setsAsArrays(breakGlassReviews.usesByBeneficiary),
      breakGlassReviewOfRequest: breakGlassReviews.reviewOfRequest.entries(),
      breakGlassCompletedReviews: breakGlassReviews.completedReviews,
      sodAccounts: sod.accounts.entries(),
      sodUnmanaged: sod.unmanaged.entries(),
      sodObservedAt: sod.observedAt.entries(),
      recordedDecisions: recorded.decisionsByRequest.entries(),
      evaluatedCampaigns: recorded.evaluatedCampaigns,
      announcedDigests: state.announcedDigests,
      folded: (function* () {
        for (const [key, offset] of state.folded) yield [key, offset.toString()];
      })(),
    });
  },
  decode: async (frames, into) => {
    // Everything is read and checked before `into` is touched: a snapshot that fails leaves it as it was.
    const parts = await decodeJsonParts(frames, PARTS);
    const identities = pairsOf<Identity>(parts.identities, 'identities', isObject);
    const grants = pairsOf<HeldGrant>(parts.grants, 'grants', isObject);
    const grantsByBeneficiary = setsOf(pairsOf<string[]>(parts.grantsByBeneficiary, 'grantsByBeneficiary', isStrings));
    const catalog = catalogOf(parts.catalog);
    const breakGlassUses = setsOf(pairsOf<string[]>(parts.breakGlassUses, 'breakGlassUses', isStrings));
    const reviewOfRequest = pairsOf<string>(parts.breakGlassReviewOfRequest, 'breakGlassReviewOfRequest', isString);
    const completedReviews = stringsOf(parts.breakGlassCompletedReviews, 'breakGlassCompletedReviews');
    const accounts = pairsOf<string>(parts.sodAccounts, 'sodAccounts', isString);
    const unmanaged = pairsOf<UnmanagedAccess>(parts.sodUnmanaged, 'sodUnmanaged', isObject);
    const observedAt = pairsOf<string>(parts.sodObservedAt, 'sodObservedAt', isString);
    const decisions = pairsOf<RecordedDecisionFact>(parts.recordedDecisions, 'recordedDecisions', isObject);
    const evaluatedCampaigns = stringsOf(parts.evaluatedCampaigns, 'evaluatedCampaigns');
    const announcedDigests = stringsOf(parts.announcedDigests, 'announcedDigests');
    const folded = offsetsOf(pairsOf<string>(parts.folded, 'folded', isString));

    const { current, sod, recorded } = into;
    fill(current.identities, identities);
    fill(current.grants, grants);
    fill(current.grantsByBeneficiary, grantsByBeneficiary);
    current.catalog = catalog;
    fill(current.breakGlassReviews.usesByBeneficiary, breakGlassUses);
    fill(current.breakGlassReviews.reviewOfRequest, reviewOfRequest);
    for (const reviewId of completedReviews) current.breakGlassReviews.completedReviews.add(reviewId);
    fill(sod.accounts, accounts);
    fill(sod.unmanaged, unmanaged);
    fill(sod.observedAt, observedAt);
    fill(recorded.decisionsByRequest, decisions);
    for (const campaignId of evaluatedCampaigns) recorded.evaluatedCampaigns.add(campaignId);
    for (const digest of announcedDigests) into.announcedDigests.add(digest);
    fill(into.folded, folded);
  },
};
