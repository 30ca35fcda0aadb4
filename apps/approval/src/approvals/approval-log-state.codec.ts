import type { AccessPackage, Entitlement } from '@grantline/contracts';
import {
  SnapshotUnusableError,
  decodeJsonParts,
  encodeJsonParts,
  fill,
  isNumber,
  isObject,
  isString,
  isStrings,
  pairsOf,
  setsAsArrays,
  setsOf,
  withSeenArray,
  withSeenSet,
} from '@grantline/messaging';
import type { StateSnapshotCodec } from '@grantline/messaging';
import type { RequestApprovalState } from '../domain/approval.state';
import type { Directory, DirectoryIdentity } from '../domain/directory';
import type { RequestFacts } from '../domain/inbox.view';
import type { BreakGlassReviewState } from '../domain/review.state';
import { ApprovalLogState } from './approval-log-state';

const PARTS = [
  'identities',
  'identityVersions',
  'entitlements',
  'systemOwners',
  'accessPackages',
  'catalogVersion',
  'requests',
  'taskIndex',
  'reviews',
  'reviewIndex',
  'inboxFacts',
  'inboxBySubject',
] as const;

function* encodedRecords<T extends { readonly seenEventIds: ReadonlySet<string> }>(map: ReadonlyMap<string, T>): Generator<[string, unknown]> {
  for (const [key, value] of map) yield [key, withSeenArray(value)];
}

const recordsOf = <T extends { readonly seenEventIds: ReadonlySet<string> }>(entries: readonly unknown[], part: string): [string, T][] =>
  pairsOf<unknown>(entries, part, isObject).map(([key, value]) => [key, withSeenSet<T>(value, part)]);

function catalogVersionOf(entries: readonly unknown[]): number | undefined {
  if (entries.length === 0) return undefined;
  const [version] = entries;
  if (entries.length > 1 || !isNumber(version)) throw new SnapshotUnusableError('part catalogVersion does not hold one version');
  return version;
}

/**
 * The approval state as snapshot frames (ADR 0037): the directory, every request's aggregate (with the event ids it
 * has seen, which make a redelivery harmless), the task index, the break-glass reviews and the inbox index. Maps are
 * written as their entries in iteration order, so a restored state iterates (lists tasks, reviews, lineage) as the
 * folded one did; every part is sliced by `encodeJsonParts`.
 */
export const approvalStateCodec: StateSnapshotCodec<ApprovalLogState> = {
  // Bump it whenever ApprovalLogState.apply, the domain folds it calls (evolve, evolveDirectory, ReviewBook.fold,
  // InboxIndex.fold) or this encoding change: a snapshot of another version is never restored, the log is replayed
  // from the beginning instead.
  version: 'approval-state/1',
  empty: () => new ApprovalLogState(),
  apply: (state, event) => state.apply(event),
  encode: (state) => {
    const { directory } = state;
    const reviews = state.reviews.held();
    const inbox = state.inbox.held();
    return encodeJsonParts({
      identities: directory.identities.entries(),
      identityVersions: directory.identityVersions.entries(),
      entitlements: directory.entitlements.entries(),
      systemOwners: directory.systemOwners.entries(),
      accessPackages: directory.accessPackages.entries(),
      catalogVersion: directory.catalogVersion === undefined ? [] : [directory.catalogVersion],
      requests: encodedRecords(state.requests),
      taskIndex: state.taskIndex.entries(),
      reviews: encodedRecords(reviews.byRequest),
      reviewIndex: reviews.requestOfReview.entries(),
      inboxFacts: inbox.facts.entries(),
      inboxBySubject: setsAsArrays(inbox.bySubject),
    });
  },
  decode: async (frames, into) => {
    // Everything is read and checked before `into` is touched: a snapshot that fails leaves it as it was.
    const parts = await decodeJsonParts(frames, PARTS);
    const catalogVersion = catalogVersionOf(parts.catalogVersion);
    const directory: Directory = {
      identities: new Map(pairsOf<DirectoryIdentity>(parts.identities, 'identities', isObject)),
      identityVersions: new Map(pairsOf<number>(parts.identityVersions, 'identityVersions', isNumber)),
      entitlements: new Map(pairsOf<Entitlement>(parts.entitlements, 'entitlements', isObject)),
      systemOwners: new Map(pairsOf<string>(parts.systemOwners, 'systemOwners', isString)),
      accessPackages: new Map(pairsOf<AccessPackage>(parts.accessPackages, 'accessPackages', isObject)),
      ...(catalogVersion !== undefined ? { catalogVersion } : {}),
    };
    const requests = recordsOf<RequestApprovalState>(parts.requests, 'requests');
    const taskIndex = pairsOf<string>(parts.taskIndex, 'taskIndex', isString);
    const reviews = recordsOf<BreakGlassReviewState>(parts.reviews, 'reviews');
    const reviewIndex = pairsOf<string>(parts.reviewIndex, 'reviewIndex', isString);
    const inboxFacts = pairsOf<RequestFacts>(parts.inboxFacts, 'inboxFacts', isObject);
    const inboxBySubject = setsOf(pairsOf<string[]>(parts.inboxBySubject, 'inboxBySubject', isStrings));

    into.directory = directory;
    fill(into.requests, requests);
    fill(into.taskIndex, taskIndex);
    into.reviews.restore(reviews, reviewIndex);
    into.inbox.restore(inboxFacts, inboxBySubject);
  },
};
