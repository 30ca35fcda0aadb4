import {
  ApprovalCampaignCompleted,
  ApprovalCampaignStarted,
  ApprovalCertificationDecided,
  GrantActivated,
  GrantCreated,
  GrantDriftDetected,
  GrantExpiryShortened,
  GrantRevoked,
  PolicyReviewItemsEvaluated,
  fixtureMeta,
  fixtureOf,
  registry,
  topicOf,
} from '@grantline/contracts';
import type { DataOf, Envelope, EventDefinition } from '@grantline/contracts';
import { InMemoryMessageBus, deterministicEventId, jsonFrame } from '@grantline/messaging';
import type { LogPosition } from '@grantline/messaging';
import { DEFAULT_APPROVAL_POLICY } from '../domain/approval.policy';
import { catalogEvent, directoryOf, human, identityUpserted, organisation, submitted } from '../testing/approval-scenario';
import { ApprovalStateService } from '../approvals/approval-state.service';
import { DEFAULT_DIRECTORY_WAIT_MS } from '../approvals/approval.config';
import { CertificationLogState } from './certification-log-state';
import { certificationStateCodec as codec } from './certification-log-state.codec';
import { CertificationStateService } from './certification-state.service';
import { parseCampaignDefinition } from './domain/campaign-definition';
import type { CertificationCommand } from './domain/certification.commands';
import { itemIdOf, makeCertificationDecider } from './domain/certification.decide';
import { countsOf } from './domain/certification.state';
import { isLive } from './domain/grant-facts';

const AT = '2026-01-05T09:00:00.000Z';
const ANSWERED = '2026-01-06T09:00:00.000Z';
const LATER = '2026-01-19T09:00:00.000Z';
const CAMPAIGN = 'quarterly:1';
const GRANT_IDS = ['req-a:orders-read', 'req-b:orders-write', 'req-c:orders-read', 'req-d:orders-read'];
const PEOPLE = ['alice', 'bob', 'carol', 'fay', 'svc-orders', 'nobody'];

const quarterly = parseCampaignDefinition(
  {
    definitionId: 'quarterly',
    name: 'Quarterly privileged access review',
    triggers: ['schedule', 'on_demand'],
    cadence: 'P13W',
    scope: { sensitivities: ['high', 'critical'], identityKinds: ['human', 'service_account'] },
    reviewer: { kind: 'manager' },
    deadline: 'P14D',
    onNoAnswer: 'escalate',
  },
  'quarterly.yaml',
);
const organisationEvents = [...organisation(), identityUpserted(human('bob', { managerId: 'fay' })), identityUpserted(human('fay')), catalogEvent()];
const directory = directoryOf(organisationEvents);
const deciderOver = (state: CertificationLogState) =>
  makeCertificationDecider({
    directory,
    policy: DEFAULT_APPROVAL_POLICY,
    registry,
    eventId: deterministicEventId,
    definitions: new Map([[quarterly.definitionId, quarterly]]),
    requesterOf: (requestId) => state.requests.get(requestId)?.requesterId,
  });

let sequence = 0;
const event = <D extends EventDefinition>(definition: D, overrides: Partial<DataOf<D>> = {}, time = AT): Envelope =>
  registry.encode(definition, { ...(fixtureOf(definition).data as object), ...overrides } as DataOf<D>, fixtureMeta({ id: `evt-${++sequence}`, time }));

const grantOf = (grantId: string, beneficiaryId: string): Envelope[] => {
  const [requestId, entitlementId] = grantId.split(':') as [string, string];
  const expiresAt = '2026-06-01T00:00:00.000Z';
  const fields = { grantId, requestId, beneficiaryId, entitlementId, systemId: 'orders-db', connectorId: 'postgres', targetAccount: beneficiaryId, expiresAt };
  return [event(GrantCreated, fields), event(GrantActivated, { grantId, activatedAt: AT, expiresAt })];
};

/**
 * The certification log as the service reads it: grants, people and requests from other services, and what its
 * decider decided on the state folded so far (decide, then fold, as `commit` does). The midpoint ends the first
 * half (a campaign started and answered by policy); the second half answers, escalates and blocks its items, moves a
 * person, changes grants and runs a second campaign to its end.
 */
const history = (): { log: Envelope[]; midpoint: number } => {
  const state = new CertificationLogState();
  const log: Envelope[] = [];
  const happen = (...events: readonly Envelope[]): void => {
    for (const e of events) {
      log.push(e);
      state.apply(e);
    }
  };
  const decide = (command: CertificationCommand): void => happen(...deciderOver(state).decide(command, state.stateOf(command.campaignId)));

  happen(...organisationEvents);
  happen(...['req-a', 'req-b', 'req-c', 'req-d'].map((requestId) => submitted(requestId)));
  happen(...grantOf('req-a:orders-read', 'alice'), ...grantOf('req-b:orders-write', 'alice'), ...grantOf('req-c:orders-read', 'bob'));
  happen(...grantOf('req-d:orders-read', 'svc-orders'));
  decide({ kind: 'schedule', campaignId: CAMPAIGN, definition: quarterly, dueAt: AT, at: AT });
  decide({ kind: 'start', campaignId: CAMPAIGN, definition: quarterly, trigger: 'schedule', candidates: [...state.grants.values()], at: AT });
  const items = (state.stateOf(CAMPAIGN).campaign && [...state.stateOf(CAMPAIGN).items.values()].map(({ item }) => item)) ?? [];
  happen(
    event(PolicyReviewItemsEvaluated, {
      campaignId: CAMPAIGN,
      items: items.map(({ itemId, grantId, requestId }) => ({
        itemId,
        grantId,
        requestId,
        outcome: 'unknown',
        reason: 'no_recorded_decision',
        detail: 'none recorded',
      })),
    }),
  );
  const midpoint = log.length;

  decide({ kind: 'decide_item', campaignId: CAMPAIGN, itemId: itemIdOf(CAMPAIGN, 'req-a:orders-read'), reviewerId: 'bob', decision: 'certify', at: ANSWERED });
  decide({
    kind: 'decide_item',
    campaignId: CAMPAIGN,
    itemId: itemIdOf(CAMPAIGN, 'req-b:orders-write'),
    reviewerId: 'bob',
    decision: 'reduce',
    newExpiresAt: '2026-02-01T00:00:00.000Z',
    at: ANSWERED,
  });
  // bob may not review his own access: recorded as evidence.
  decide({ kind: 'decide_item', campaignId: CAMPAIGN, itemId: itemIdOf(CAMPAIGN, 'req-c:orders-read'), reviewerId: 'bob', decision: 'certify', at: ANSWERED });
  decide({ kind: 'deadline', campaignId: CAMPAIGN, timerEventId: 'timer-1', firedAt: LATER });
  happen(
    event(GrantExpiryShortened, { grantId: 'req-b:orders-write', previousExpiresAt: '2026-06-01T00:00:00.000Z', expiresAt: '2026-02-01T00:00:00.000Z' }),
    event(GrantDriftDetected, {
      connectorId: 'postgres',
      systemId: 'orders-db',
      kind: 'missing_in_target',
      targetAccount: 'alice',
      externalRef: 'orders_read',
    }),
    event(GrantRevoked, { grantId: 'req-d:orders-read' }),
    identityUpserted(human('alice', { managerId: 'carol' })),
    event(ApprovalCampaignStarted, { campaignId: 'cmp-0001' }),
    event(ApprovalCertificationDecided, { campaignId: 'cmp-0001' }),
    event(ApprovalCampaignCompleted, { campaignId: 'cmp-0001' }),
  );
  return { log, midpoint };
};

/** The service over a state of its own: its queries are what a restored state must answer alike. */
const serviceOver = (): CertificationStateService => {
  const commands = { execute: async () => undefined } as never;
  const bus = new InMemoryMessageBus({ registry });
  const config = { policy: DEFAULT_APPROVAL_POLICY, directoryWaitMs: DEFAULT_DIRECTORY_WAIT_MS };
  const approvals = new ApprovalStateService(bus, registry, config, commands);
  for (const e of organisationEvents) approvals.state.apply(e);
  return new CertificationStateService(bus, registry, config, { definitions: new Map([[quarterly.definitionId, quarterly]]) }, approvals, commands);
};

const answersOf = (service: CertificationStateService) => {
  const campaigns = [CAMPAIGN, 'cmp-0001', 'unknown'];
  const itemIds = [...GRANT_IDS.map((grantId) => itemIdOf(CAMPAIGN, grantId)), `cmp-0001/${fixtureOf(GrantCreated).data.grantId}`];
  const started = service.stateOf(CAMPAIGN).items;
  return {
    states: campaigns.map((campaignId) => service.stateOf(campaignId)),
    counts: campaigns.map((campaignId) => countsOf(service.stateOf(campaignId))),
    campaigns: [...service.campaigns().keys()],
    items: itemIds.map((itemId) => service.campaignOfItem(itemId)),
    grants: [...service.grants().values()].map((grant) => [grant.grantId, isLive(grant, LATER)]),
    people: PEOPLE.map((id) => service.person(id)),
    requests: ['req-a', 'req-b', 'req-x'].map((requestId) => service.request(requestId)),
    relations: [...started.values()].flatMap(({ item }) => PEOPLE.map((id) => service.relationTo(id, item, false))),
    nextDeadline: service
      .decider()
      .decide({ kind: 'deadline', campaignId: CAMPAIGN, timerEventId: 'timer-2', firedAt: '2026-02-19T09:00:00.000Z' }, service.stateOf(CAMPAIGN)),
    nextCampaign: service.decider().decide(
      {
        kind: 'start',
        campaignId: 'quarterly:2',
        definition: quarterly,
        trigger: 'on_demand',
        startedBy: 'sec-1',
        candidates: [...service.grants().values()],
        at: LATER,
      },
      service.stateOf('quarterly:2'),
    ),
  };
};

const onTheLog = (events: readonly Envelope[]): { event: Envelope; position: LogPosition }[] =>
  events.map((e, offset) => ({ event: e, position: { topic: topicOf(registry.definitionOf(e.type), e.data), partition: 0, offset: String(offset) } }));

const foldInto = (state: CertificationLogState, events: readonly Envelope[]): void => {
  for (const { event: e, position } of onTheLog(events)) codec.apply(state, e, position);
};

/** The state's frames, taken whole (`encode` hands them out lazily). */
const framesOf = (state: CertificationLogState): Uint8Array[] => [...codec.encode(state)];

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

describe('certificationStateCodec: the certification state in a snapshot (ADR 0037)', () => {
  const { log, midpoint } = history();

  it('Given the state folded up to the midpoint and restored from its snapshot, When the rest of the log folds into both, Then the service answers every query alike and the states are equal', async () => {
    const live = serviceOver();
    const restored = serviceOver();
    foldInto(live.state, log.slice(0, midpoint));
    await codec.decode(framesOf(live.state), restored.state);
    expect(restored.state).toEqual(live.state);
    expect(answersOf(restored)).toEqual(answersOf(live));

    foldInto(live.state, log.slice(midpoint));
    foldInto(restored.state, log.slice(midpoint));

    expect(answersOf(restored)).toEqual(answersOf(live));
    expect(restored.state).toEqual(live.state);
    // The frames hold the maps in iteration order, so equal frames mean equal order too.
    expect(framesOf(restored.state)).toEqual(framesOf(live.state));
    // The history reached every part of the state: a part left empty would prove nothing.
    const campaign = live.stateOf(CAMPAIGN);
    expect(countsOf(campaign)).toMatchObject({ items: 4, certified: 1, reduced: 1, lapsed: 2 });
    expect(campaign).toMatchObject({ scheduled: { definitionId: 'quarterly' }, blockedAttempts: 1, policyToday: { items: expect.any(Map) } });
    expect(campaign.policyToday?.items.size).toBe(4);
    expect(campaign.completedAt).toBe(LATER);
    expect(live.stateOf('cmp-0001').completedAt).toBeDefined();
    expect(live.person('alice')?.lastMove).toMatchObject({ previousManagerId: 'bob' });
    expect(live.grants().get('req-b:orders-write')?.expiryChanges).toHaveLength(1);
  });

  it('Given a restored state, When the events it holds are delivered again, Then nothing changes (the seen event ids came back with it)', async () => {
    const live = serviceOver();
    foldInto(live.state, log);
    const restored = serviceOver();
    await codec.decode(framesOf(live.state), restored.state);

    foldInto(restored.state, log);

    expect(restored.state).toEqual(live.state);
    expect(answersOf(restored)).toEqual(answersOf(live));
  });

  it('Given the whole log, When the compactor folds it with codec.apply, Then its state equals the one the service replays', () => {
    const service = serviceOver();
    // What ReplayedStateService.applyReplayed does with every event of the replay (this state needs no position).
    for (const e of log) service.state.apply(e);
    const compacted = codec.empty();

    foldInto(compacted, log);

    expect(compacted).toEqual(service.state);
    expect(framesOf(compacted)).toEqual(framesOf(service.state));
  });

  describe('Given frames it cannot use, When decoded, Then it throws and the target stays empty', () => {
    const live = codec.empty();
    foldInto(live, log);
    const frames = framesOf(live);
    const campaigns = firstSliceOf(frames, 'campaigns');
    const items = firstSliceOf(frames, 'campaignItems');
    const lastPart = firstSliceOf(frames, 'itemIndex');
    const cases: [string, () => Uint8Array[]][] = [
      ['a frame cut short', () => frames.map((frame, i) => (i === campaigns ? frame.subarray(0, frame.length - 2) : frame))],
      ['a part missing', () => [jsonFrame({ part: 'campaigns' }), frames[campaigns]!]],
      ['an item of a campaign it does not hold', () => frames.map((frame, i) => (i === items ? jsonFrame([['quarterly:9', 'item-1', {}]]) : frame))],
      ['the last part (the item index) not pairs', () => frames.map((frame, i) => (i === lastPart ? jsonFrame([['item-1']]) : frame))],
      ['no frames at all', () => []],
    ];

    it.each(cases)('%s', async (_, corrupt) => {
      const into = codec.empty();

      await expect(codec.decode(corrupt(), into)).rejects.toThrow();

      expect(into).toEqual(codec.empty());
      expect(framesOf(into)).toEqual(framesOf(codec.empty()));
    });
  });

  it('Given one campaign over many grants, When encoded, Then its items are written in slices like any part', async () => {
    const state = codec.empty();
    const item = { ...fixtureOf(ApprovalCampaignStarted).data.items[0]! };
    const items = new Map(
      Array.from({ length: 45_000 }, (_, i) => [`item-${i}`, { item, status: 'open' as const, reviewerIds: ['bob'], dueAt: LATER, escalated: false }]),
    );
    state.campaigns.set(CAMPAIGN, { items, blockedAttempts: 0, seenEventIds: new Set(['evt-started']) });

    const frames = framesOf(state);

    expect(slicesOf(frames, 'campaignItems')).toBe(3);
    const restored = codec.empty();
    await codec.decode(frames, restored);
    expect(restored.stateOf(CAMPAIGN).items.size).toBe(45_000);
    expect(restored.stateOf(CAMPAIGN).items.get('item-44999')).toEqual(items.get('item-44999'));
    // Byte for byte (toEqual walks typed arrays element by element: far too slow at this size).
    expect(Buffer.concat(framesOf(restored)).equals(Buffer.concat(frames))).toBe(true);
  });
});
