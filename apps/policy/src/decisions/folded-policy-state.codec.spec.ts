import { resolve } from 'node:path';
import {
  ApprovalBreakGlassGranted,
  ApprovalCampaignStarted,
  ApprovalReviewCompleted,
  ApprovalReviewOpened,
  GrantDriftDetected,
  GrantProvisioningFailed,
  GrantReconciliationCompleted,
  GrantRevoked,
  IdentityOffboarded,
  IdentityOwnerChanged,
  PolicyBundleLoaded,
  PolicyReviewItemsEvaluated,
  fixtureMeta,
  fixtureOf,
  registry,
  topicOf,
} from '@grantline/contracts';
import type { DataOf, Envelope, EventDefinition } from '@grantline/contracts';
import { foldEvents } from '@grantline/decider';
import { InMemoryMessageBus, jsonFrame } from '@grantline/messaging';
import type { LogPosition } from '@grantline/messaging';
import { loadBundleFromDirectory } from '@grantline/policy-engine';
import { grantsOf, identityOfAccount, makePolicyDecider, openBreakGlassReviewsOf, openUnmanagedAccess, requestsWithoutDecision, scanHoldings } from '../domain';
import { specEventId } from '../testing/event-id';
import { CATALOG, IDENTITIES, catalogEvent, grantEvents, identityEvents, requestEvent } from '../testing/policy-scenario.fixtures';
import type { FoldedPolicyState } from './folded-policy-state';
import { policyStateCodec as codec } from './folded-policy-state.codec';
import { PolicyStateService } from './policy-state.service';

const shipped = loadBundleFromDirectory(resolve(__dirname, '../../../../policies'));
const decider = makePolicyDecider({ bundle: shipped, registry, eventId: specEventId });
const AT = '2025-06-03T10:00:00.000Z';

let sequence = 0;
const event = <D extends EventDefinition>(definition: D, overrides: Partial<DataOf<D>> = {}, time = AT): Envelope =>
  registry.encode(definition, { ...(fixtureOf(definition).data as object), ...overrides } as DataOf<D>, fixtureMeta({ id: `evt-${++sequence}`, time }));

/** The log as Kafka would hold it: each event on its topic, on one of two partitions by subject, at the next offset. */
const onTheLog = (events: readonly Envelope[]): { event: Envelope; position: LogPosition }[] => {
  const next = new Map<string, number>();
  return events.map((e) => {
    const topic = topicOf(registry.definitionOf(e.type), e.data);
    const partition = (e.subject ?? '').length % 2;
    const key = `${topic}/${partition}`;
    const offset = next.get(key) ?? 0;
    next.set(key, offset + 1);
    return { event: e, position: { topic, partition, offset: String(offset) } };
  });
};

/**
 * Alice, Bob, Olga and the CI pipeline; grants, drift, a break-glass use and its review, decisions, bundles. The
 * midpoint ends the first half: every part of the state holds something by then, and the second half changes each.
 */
const history = (): { log: { event: Envelope; position: LogPosition }[]; midpoint: number } => {
  const directory = foldEvents(decider, [...identityEvents(), catalogEvent()]);
  const decisionOf = (requestId: string): Envelope => {
    const [decision] = decider.decide({ request: requestEvent(requestId), waitedOut: true }, directory);
    if (decision === undefined) throw new Error(`${requestId} was not decided`);
    return decision;
  };
  const firstHalf = [
    ...identityEvents(),
    catalogEvent(),
    ...grantEvents({ requestId: 'req-maker', beneficiaryId: 'alice', entitlementId: 'payments-write', systemId: 'payments' }),
    ...grantEvents({ requestId: 'req-bob', beneficiaryId: 'bob', entitlementId: 'orders-read', systemId: 'orders-db', active: false }),
    ...grantEvents({ requestId: 'req-ci', beneficiaryId: 'ci-orders', entitlementId: 'wiki-read', systemId: 'wiki', active: false }),
    event(GrantDriftDetected, {
      connectorId: 'payments',
      systemId: 'payments',
      targetAccount: 'alice',
      externalRef: 'payments_checker',
      remediation: 'report_only',
    }),
    event(ApprovalBreakGlassGranted, { requestId: 'req-bg', beneficiaryId: 'alice' }),
    event(ApprovalReviewOpened, { requestId: 'req-bg', reviewId: 'rvw-bg' }),
    decisionOf('req-1'),
    event(PolicyBundleLoaded, { digest: 'c'.repeat(64) }),
  ];
  const alice = IDENTITIES.find((identity) => identity.identityId === 'alice')!;
  const secondHalf = [
    ...identityEvents(registry, [{ ...alice, team: 'payments' }]),
    event(IdentityOwnerChanged, { identityId: 'ci-orders', previousOwnerId: 'alice', newOwnerId: 'bob' }),
    event(IdentityOffboarded, { identityId: 'bob', kind: 'human', ownedIdentityIds: [] }),
    event(GrantRevoked, { grantId: 'req-bob:orders-read' }),
    event(GrantProvisioningFailed, { grantId: 'req-ci:wiki-read', terminal: true, retriable: false, operation: 'provision' }),
    event(GrantReconciliationCompleted, { connectorId: 'wiki', observedAt: AT }),
    catalogEvent(registry, { ...CATALOG, catalogVersion: 2, digest: 'd'.repeat(64), accessPackages: [] }),
    event(ApprovalBreakGlassGranted, { requestId: 'req-bg-2', beneficiaryId: 'alice' }),
    event(ApprovalReviewOpened, { requestId: 'req-bg-2', reviewId: 'rvw-bg-2' }),
    event(ApprovalReviewCompleted, { requestId: 'req-bg', reviewId: 'rvw-bg' }),
    decisionOf('req-2'),
    event(PolicyReviewItemsEvaluated, { campaignId: 'cmp-1' }),
    event(PolicyBundleLoaded, { digest: 'e'.repeat(64) }),
  ];
  return { log: onTheLog([...firstHalf, ...secondHalf]), midpoint: firstHalf.length };
};

const foldInto = (state: FoldedPolicyState, log: readonly { event: Envelope; position: LogPosition }[]): void => {
  for (const { event: e, position } of log) codec.apply(state, e, position);
};

/** The state's frames, taken whole (`encode` hands them out lazily). */
const framesOf = (state: FoldedPolicyState): Uint8Array[] => [...codec.encode(state)];

const snapshotOf = async (state: FoldedPolicyState): Promise<FoldedPolicyState> => {
  const restored = codec.empty();
  await codec.decode(framesOf(state), restored);
  return restored;
};

/** Where a part's marker frame lies (`encodeJsonParts`); its slices follow it, up to the next marker. */
const markerOf = (frames: readonly Uint8Array[], part: string): number => {
  const marker = JSON.stringify({ part });
  const at = frames.findIndex((frame) => Buffer.from(frame).toString('utf8') === marker);
  if (at < 0) throw new Error(`the frames hold no part ${part}`);
  return at;
};

/** Where the first slice of a part lies: right after its marker frame. */
const firstSliceOf = (frames: readonly Uint8Array[], part: string): number => {
  const at = markerOf(frames, part) + 1;
  if (frames[at]?.[0] !== '['.charCodeAt(0)) throw new Error(`the frames hold no slice of part ${part}`);
  return at;
};

/** How many slices a part was written in: the frames from its marker up to the next marker (or the end). */
const slicesOf = (frames: readonly Uint8Array[], part: string): number => {
  const from = markerOf(frames, part) + 1;
  const next = frames.findIndex((frame, i) => i >= from && frame[0] === '{'.charCodeAt(0));
  return (next < 0 ? frames.length : next) - from;
};

/** Every question the service asks of its state (decisions, SoD scans, re-evaluations, the announcer). */
const answersOf = (state: FoldedPolicyState) => {
  const { current, sod, recorded } = state;
  const people = ['alice', 'bob', 'olga', 'ci-orders', 'nobody'];
  const campaign = fixtureOf(ApprovalCampaignStarted).data;
  return {
    identities: people.map((id) => current.identities.get(id)),
    grants: people.map((id) => grantsOf(current, id)),
    catalog: current.catalog && { version: current.catalog.version, entitlements: [...current.catalog.entitlements.keys()] },
    openReviews: people.map((id) => openBreakGlassReviewsOf(current.breakGlassReviews, id)),
    unmanaged: openUnmanagedAccess(sod),
    accountOwner: identityOfAccount('payments', 'alice', sod, current.identities),
    scan: scanHoldings(shipped, current, sod, { scanId: 'scan-1', trigger: 'on_demand', requestedBy: 'sec-1', startedAt: AT, completedAt: AT }),
    decisions: ['req-q1', 'req-q2'].map((requestId) => decider.decide({ request: requestEvent(requestId), waitedOut: true }, current)),
    undecided: requestsWithoutDecision({ ...campaign, items: campaign.items.map((item, i) => ({ ...item, requestId: `req-${i + 1}` })) }, recorded),
    evaluated: recorded.evaluatedCampaigns.has('cmp-1'),
    announced: ['c', 'e', 'f'].map((hex) => state.announcedDigests.has(hex.repeat(64))),
  };
};

describe('policyStateCodec: the policy state in a snapshot (ADR 0037)', () => {
  const { log, midpoint } = history();

  it('Given the state folded up to the midpoint and restored from its snapshot, When the rest of the log folds into both, Then they answer every query alike and are equal', async () => {
    const live = codec.empty();
    foldInto(live, log.slice(0, midpoint));
    const restored = await snapshotOf(live);
    expect(restored).toEqual(live);
    expect(answersOf(restored)).toEqual(answersOf(live));

    foldInto(live, log.slice(midpoint));
    foldInto(restored, log.slice(midpoint));

    expect(answersOf(restored)).toEqual(answersOf(live));
    expect(restored).toEqual(live);
    // The frames hold the maps in iteration order, so equal frames mean equal order too.
    expect(framesOf(restored)).toEqual(framesOf(live));
    // The history reached every part of the state: a part left empty would prove nothing.
    expect(answersOf(live)).toMatchObject({
      catalog: { version: 2 },
      unmanaged: [expect.objectContaining({ targetAccount: 'alice' })],
      openReviews: [['rvw-bg-2'], [], [], [], []],
      undecided: [],
      evaluated: true,
      announced: [true, true, false],
    });
    expect(live.current.grants.has('req-bob:orders-read')).toBe(false);
    expect(live.current.grantsByBeneficiary.get('bob')).toEqual(new Set());
    expect(live.sod.observedAt.get('wiki')).toBe(AT);
  });

  it('Given a restored state, When a catch-up replays the log from its beginning, Then nothing the snapshot holds is folded again', async () => {
    const live = codec.empty();
    foldInto(live, log);
    const restored = await snapshotOf(live);

    const refolded = log.map(({ event: e, position }) => restored.apply(e, position));

    expect(refolded.every((folded) => folded === false)).toBe(true);
    // Alice's first record lies before her later one on the same partition: it must not come back.
    expect(restored.current.identities.get('alice')?.team).toBe('payments');
    expect(restored).toEqual(live);
  });

  it('Given the whole log, When the compactor folds it with codec.apply, Then its state equals the one the service replays', () => {
    const service = new PolicyStateService(new InMemoryMessageBus({ registry }), registry);
    for (const { event: e, position } of log) service.apply(e, position);
    const compacted = codec.empty();

    foldInto(compacted, log);

    expect(compacted).toEqual(service.state);
    expect(framesOf(compacted)).toEqual(framesOf(service.state));
    expect(service.hasAnnounced('e'.repeat(64))).toBe(true);
  });

  describe('Given frames it cannot use, When decoded, Then it throws and the target stays empty', () => {
    const live = codec.empty();
    foldInto(live, log);
    const frames = framesOf(live);
    const identities = firstSliceOf(frames, 'identities');
    const grantsByBeneficiary = firstSliceOf(frames, 'grantsByBeneficiary');
    const lastPart = firstSliceOf(frames, 'folded');
    const cases: [string, () => Uint8Array[]][] = [
      ['a frame cut short', () => frames.map((frame, i) => (i === grantsByBeneficiary ? frame.subarray(0, frame.length - 2) : frame))],
      ['a part missing', () => [jsonFrame({ part: 'identities' }), frames[identities]!]],
      ['the last part (the offsets) not offsets', () => frames.map((frame, i) => (i === lastPart ? jsonFrame([['policy.topic/0', 'not an offset']]) : frame))],
      ['an entry that is not a pair', () => frames.map((frame, i) => (i === lastPart ? jsonFrame([42]) : frame))],
      ['no frames at all', () => []],
    ];

    it.each(cases)('%s', async (_, corrupt) => {
      const into = codec.empty();

      await expect(codec.decode(corrupt(), into)).rejects.toThrow();

      expect(into).toEqual(codec.empty());
      expect(framesOf(into)).toEqual(framesOf(codec.empty()));
    });
  });

  it('Given many grants, When encoded, Then they are written in slices, never as one string of the whole state', async () => {
    const state = codec.empty();
    for (let i = 0; i < 45_000; i += 1) {
      const grantId = `req-${i}:orders-read`;
      state.current.grants.set(grantId, { grantId, beneficiaryId: `id-${i % 1000}`, entitlementId: 'orders-read', status: 'active', expiresAt: AT });
    }

    const frames = framesOf(state);

    expect(slicesOf(frames, 'grants')).toBe(3);
    expect(Math.max(...frames.map((frame) => frame.byteLength))).toBeLessThan(5_000_000);
    const restored = codec.empty();
    await codec.decode(frames, restored);
    expect(restored.current.grants).toEqual(state.current.grants);
  });
});
