import type { ReviewItemEvaluation } from '@grantline/contracts';
import { SnapshotUnusableError, decodeJsonParts, encodeJsonParts, fill, isObject, isString, pairsOf, triplesOf } from '@grantline/messaging';
import type { StateSnapshotCodec } from '@grantline/messaging';
import { CertificationLogState } from './certification-log-state';
import type { CampaignState, ItemState } from './domain/certification.state';
import type { GrantFact } from './domain/grant-facts';
import type { PersonRecord, RequestRecord } from './domain/people';

const PARTS = ['campaigns', 'campaignItems', 'campaignEvaluations', 'campaignSeenEvents', 'grants', 'people', 'requests', 'itemIndex'] as const;

/** A campaign without its collections: they are parts of their own, one entry per item or event, however large the campaign. */
type CampaignHead = Omit<CampaignState, 'items' | 'seenEventIds' | 'policyToday'> & {
  readonly policyToday?: { readonly currentBundleDigest: string; readonly evaluatedAt: string };
};

function* campaignHeads(campaigns: ReadonlyMap<string, CampaignState>): Generator<[string, CampaignHead]> {
  for (const [campaignId, state] of campaigns) {
    const { items: _items, seenEventIds: _seen, policyToday, ...head } = state;
    const today = policyToday && { currentBundleDigest: policyToday.currentBundleDigest, evaluatedAt: policyToday.evaluatedAt };
    yield [campaignId, today ? { ...head, policyToday: today } : head];
  }
}

function* campaignItems(campaigns: ReadonlyMap<string, CampaignState>): Generator<[string, string, ItemState]> {
  for (const [campaignId, state] of campaigns) for (const [itemId, item] of state.items) yield [campaignId, itemId, item];
}

function* campaignEvaluations(campaigns: ReadonlyMap<string, CampaignState>): Generator<[string, string, ReviewItemEvaluation]> {
  for (const [campaignId, state] of campaigns) for (const [itemId, evaluation] of state.policyToday?.items ?? []) yield [campaignId, itemId, evaluation];
}

function* campaignSeenEvents(campaigns: ReadonlyMap<string, CampaignState>): Generator<[string, string]> {
  for (const [campaignId, state] of campaigns) for (const eventId of state.seenEventIds) yield [campaignId, eventId];
}

/** The nested entries grouped by campaign, in the order they were written; one of a campaign not written is refused. */
function byCampaign<V>(
  entries: readonly (readonly [string, string, V])[],
  heads: ReadonlyMap<string, CampaignHead>,
  part: string,
): Map<string, Map<string, V>> {
  const grouped = new Map<string, Map<string, V>>();
  for (const [campaignId, key, value] of entries) {
    if (!heads.has(campaignId)) throw new SnapshotUnusableError(`part ${part} names campaign ${campaignId}, which the snapshot does not hold`);
    let map = grouped.get(campaignId);
    if (map === undefined) grouped.set(campaignId, (map = new Map()));
    map.set(key, value);
  }
  return grouped;
}

function campaignsOf(parts: Record<(typeof PARTS)[number], unknown[]>): [string, CampaignState][] {
  const heads = new Map(pairsOf<CampaignHead>(parts.campaigns, 'campaigns', isObject));
  const items = byCampaign(triplesOf<ItemState>(parts.campaignItems, 'campaignItems', isObject), heads, 'campaignItems');
  const evaluations = byCampaign(triplesOf<ReviewItemEvaluation>(parts.campaignEvaluations, 'campaignEvaluations', isObject), heads, 'campaignEvaluations');
  const seen = new Map<string, Set<string>>();
  for (const [campaignId, eventId] of pairsOf<string>(parts.campaignSeenEvents, 'campaignSeenEvents', isString)) {
    if (!heads.has(campaignId)) throw new SnapshotUnusableError(`part campaignSeenEvents names campaign ${campaignId}, which the snapshot does not hold`);
    let ids = seen.get(campaignId);
    if (ids === undefined) seen.set(campaignId, (ids = new Set()));
    ids.add(eventId);
  }
  return [...heads].map(([campaignId, head]) => {
    const { policyToday, ...rest } = head;
    if (policyToday !== undefined && (!isString(policyToday.currentBundleDigest) || !isString(policyToday.evaluatedAt))) {
      throw new SnapshotUnusableError(`campaign ${campaignId} holds a policy answer without its bundle or time`);
    }
    const state: CampaignState = {
      ...rest,
      items: items.get(campaignId) ?? new Map(),
      ...(policyToday !== undefined ? { policyToday: { ...policyToday, items: evaluations.get(campaignId) ?? new Map() } } : {}),
      seenEventIds: seen.get(campaignId) ?? new Set(),
    };
    return [campaignId, state];
  });
}

/**
 * The certification state as snapshot frames (ADR 0037): the campaigns (their items, policy's answers and the event
 * ids they have seen as parts of their own, so one campaign over a million grants is sliced like any part), the
 * grants, people, requests and the item index. Maps are written as their entries in iteration order, so a restored
 * state iterates as the folded one did; every part is sliced by `encodeJsonParts`.
 */
export const certificationStateCodec: StateSnapshotCodec<CertificationLogState> = {
  // Bump it whenever CertificationLogState.apply, the domain folds it calls (evolveCampaign, foldGrantFact,
  // foldPerson, foldRequest) or this encoding change: a snapshot of another version is never restored, the log is
  // replayed from the beginning instead.
  version: 'certification-state/1',
  empty: () => new CertificationLogState(),
  apply: (state, event) => state.apply(event),
  encode: (state) =>
    encodeJsonParts({
      campaigns: campaignHeads(state.campaigns),
      campaignItems: campaignItems(state.campaigns),
      campaignEvaluations: campaignEvaluations(state.campaigns),
      campaignSeenEvents: campaignSeenEvents(state.campaigns),
      grants: state.grants.entries(),
      people: state.people.entries(),
      requests: state.requests.entries(),
      itemIndex: state.itemIndex.entries(),
    }),
  decode: async (frames, into) => {
    // Everything is read and checked before `into` is touched: a snapshot that fails leaves it as it was.
    const parts = await decodeJsonParts(frames, PARTS);
    const campaigns = campaignsOf(parts);
    const grants = pairsOf<GrantFact>(parts.grants, 'grants', isObject);
    const people = pairsOf<PersonRecord>(parts.people, 'people', isObject);
    const requests = pairsOf<RequestRecord>(parts.requests, 'requests', isObject);
    const itemIndex = pairsOf<string>(parts.itemIndex, 'itemIndex', isString);

    fill(into.campaigns, campaigns);
    fill(into.grants, grants);
    fill(into.people, people);
    fill(into.requests, requests);
    fill(into.itemIndex, itemIndex);
  },
};
