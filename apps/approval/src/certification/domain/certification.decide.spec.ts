import {
  ApprovalCampaignCompleted,
  ApprovalCampaignScheduled,
  ApprovalCampaignStarted,
  ApprovalCertificationBlocked,
  ApprovalCertificationDecided,
  ApprovalCertificationLapsed,
  registry,
} from '@grantline/contracts';
import type { CampaignStartedData, Envelope } from '@grantline/contracts';
import { foldEvents } from '@grantline/decider';
import { deterministicEventId } from '@grantline/messaging';
import { deciderSpec } from '@grantline/testing';
import { DEFAULT_APPROVAL_POLICY } from '../../domain/approval.policy';
import { catalogEvent, directoryOf, human, identityUpserted, organisation } from '../../testing/approval-scenario';
import { parseCampaignDefinition } from './campaign-definition';
import type { CampaignDefinition } from './campaign-definition';
import { CertificationRefused, certificationRefusalIn } from './certification.commands';
import type { CertificationCommand, CertificationRejection } from './certification.commands';
import { itemIdOf, makeCertificationDecider, scheduledCampaignIdOf } from './certification.decide';
import type { CertificationDecider } from './certification.decide';
import { countsOf } from './certification.state';
import type { GrantFact } from './grant-facts';

const AT = '2026-01-05T09:00:00.000Z';
const LATER = '2026-01-19T09:00:00.000Z';
const CAMPAIGN = 'quarterly:1';

// alice (manager bob) holds orders-read (high) and orders-write (critical); bob holds orders-read himself (his manager
// is fay); svc-orders (owned by carol, manager bob) holds orders-read; frank (manager bob) holds a low wiki grant.
const directory = directoryOf([...organisation(), identityUpserted(human('bob', { managerId: 'fay' })), identityUpserted(human('fay')), catalogEvent()]);

const quarterly: CampaignDefinition = parseCampaignDefinition(
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

const grant = (grantId: string, beneficiaryId: string, entitlementId: string, overrides: Partial<GrantFact> = {}): GrantFact => ({
  grantId,
  requestId: grantId.split(':')[0] ?? grantId,
  beneficiaryId,
  entitlementId,
  systemId: 'orders-db',
  expiresAt: '2026-03-01T00:00:00.000Z',
  breakGlass: false,
  decisionId: `dec-${grantId}`,
  createdAt: '2026-01-01T00:00:00.000Z',
  status: 'active',
  expiryChanges: [],
  driftFindings: [],
  ...overrides,
});

const GRANTS: GrantFact[] = [
  grant('req-a:orders-read', 'alice', 'orders-read'),
  grant('req-b:orders-write', 'alice', 'orders-write'),
  grant('req-c:orders-read', 'bob', 'orders-read'),
  grant('req-d:orders-read', 'svc-orders', 'orders-read'),
  grant('req-e:orders-read', 'erin', 'orders-read', { status: 'ended' }),
];

const decider = (definition: CampaignDefinition = quarterly, requesters: Record<string, string> = {}): CertificationDecider =>
  makeCertificationDecider({
    directory,
    policy: DEFAULT_APPROVAL_POLICY,
    registry,
    eventId: deterministicEventId,
    definitions: new Map([[definition.definitionId, definition]]),
    requesterOf: (requestId) => requesters[requestId],
  });
const given = deciderSpec(decider());

const start = (overrides: Partial<Extract<CertificationCommand, { kind: 'start' }>> = {}): CertificationCommand => ({
  kind: 'start',
  campaignId: CAMPAIGN,
  definition: quarterly,
  trigger: 'on_demand',
  startedBy: 'sec-1',
  candidates: GRANTS,
  at: AT,
  ...overrides,
});
const answer = (
  grantId: string,
  reviewerId: string,
  decision: 'certify' | 'revoke' | 'reduce' = 'certify',
  extra: { newExpiresAt?: string } = {},
): CertificationCommand => ({
  kind: 'decide_item',
  campaignId: CAMPAIGN,
  itemId: itemIdOf(CAMPAIGN, grantId),
  reviewerId,
  decision,
  at: '2026-01-06T09:00:00.000Z',
  ...extra,
});
const deadline = (firedAt = LATER): CertificationCommand => ({ kind: 'deadline', campaignId: CAMPAIGN, timerEventId: `timer-${firedAt}`, firedAt });
/** What each command decided in turn, folded in as the service does once they are published. */
const happened = (...commands: CertificationCommand[]): Envelope[] =>
  commands.reduce<Envelope[]>((events, command) => [...events, ...decider().decide(command, foldEvents(decider(), events))], []);
const refused =
  (rejection: CertificationRejection) =>
  (error: unknown): boolean => {
    expect(error).toBeInstanceOf(CertificationRefused);
    expect(error).toMatchObject({ rejection });
    return true;
  };
const startedItems = (events: readonly Envelope[]): CampaignStartedData['items'] =>
  (events.find((event) => event.type === ApprovalCampaignStarted.type)?.data as CampaignStartedData).items;

describe('certification decider', () => {
  describe('starting a campaign', () => {
    it('snapshots the live grants in scope (NHIs included) with their reviewers; ended grants and other sensitivities stay out', () => {
      given([])
        .when(start())
        .thenAssert((events) => {
          expect(events.map((event) => event.type)).toEqual([ApprovalCampaignStarted.type]);
          expect(events[0]).toMatchObject({
            subject: CAMPAIGN,
            actor: { kind: 'user', id: 'sec-1' },
            data: { dueAt: '2026-01-19T09:00:00.000Z', onNoAnswer: 'escalate' },
          });
          expect(startedItems(events).map(({ grantId, reviewerIds, privileged }) => ({ grantId, reviewerIds, privileged }))).toEqual([
            { grantId: 'req-a:orders-read', reviewerIds: ['bob'], privileged: true },
            { grantId: 'req-b:orders-write', reviewerIds: ['bob'], privileged: true },
            // bob's own grant goes to his manager, never to him
            { grantId: 'req-c:orders-read', reviewerIds: ['fay'], privileged: true },
            // an NHI's manager is its owner's: carol's manager bob
            { grantId: 'req-d:orders-read', reviewerIds: ['bob'], privileged: true },
          ]);
        });
    });

    it('is idempotent: a campaign that started does not start again', () => {
      given(happened(start())).when(start()).thenNothing();
    });

    it('a reviewer who asked for the grant themselves is not its reviewer: the security group reviews it', () => {
      deciderSpec(decider(quarterly, { 'req-a': 'bob' }))([])
        .when(start({ candidates: [GRANTS[0]!] }))
        .thenAssert((events) => expect(startedItems(events)[0]?.reviewerIds).toEqual(['sec-1', 'sec-2']));
    });

    it('nothing in scope: started and completed at once, the evidence that it ran', () => {
      given([])
        .when(start({ candidates: [GRANTS[4]!] }))
        .thenMatches([
          { type: ApprovalCampaignStarted.type, data: { items: [] } },
          { type: ApprovalCampaignCompleted.type, data: { counts: { items: 0, certified: 0, revoked: 0, reduced: 0, lapsed: 0 } } },
        ]);
    });

    it('a cadence run arms the next one, a cadence later than it was due', () => {
      const due = '2026-01-05T08:00:00.000Z';
      const campaignId = scheduledCampaignIdOf('quarterly', due);
      const scheduled = decider().decide(
        { kind: 'schedule', campaignId, definition: quarterly, dueAt: due, at: '2025-10-06T08:00:00.000Z' },
        decider().initialState(),
      );
      given(scheduled)
        .when({ kind: 'start', campaignId, definition: quarterly, trigger: 'schedule', triggerEventId: 'timer-1', candidates: GRANTS, at: AT })
        .thenAssert((events) => {
          const next = events.find((event) => event.type === ApprovalCampaignScheduled.type);
          expect(next?.data).toEqual({
            definitionId: 'quarterly',
            campaignId: scheduledCampaignIdOf('quarterly', '2026-04-06T08:00:00.000Z'),
            dueAt: '2026-04-06T08:00:00.000Z',
          });
        });
    });

    it('scheduling the same run twice arms it once', () => {
      const command: CertificationCommand = { kind: 'schedule', campaignId: 'quarterly:x', definition: quarterly, dueAt: LATER, at: AT };
      const first = decider().decide(command, decider().initialState());
      expect(first.map((event) => event.type)).toEqual([ApprovalCampaignScheduled.type]);
      given(first).when(command).thenNothing();
    });

    it('a micro-certification goes to the reviewer its trigger names (the new manager)', () => {
      given([])
        .when(start({ trigger: 'mover', triggerEventId: 'evt-mover', reviewerOverride: 'fay', candidates: [GRANTS[0]!] }))
        .thenAssert((events) => expect(startedItems(events)[0]?.reviewerIds).toEqual(['fay']));
    });
  });

  describe('answering an item', () => {
    it('the reviewer certifies: decided, by them, and the item is closed', () => {
      given(happened(start()))
        .when(answer('req-a:orders-read', 'bob'))
        .thenMatches([
          { type: ApprovalCertificationDecided.type, actor: { kind: 'user', id: 'bob' }, data: { decision: 'certify', grantId: 'req-a:orders-read' } },
        ]);
    });

    it('a retried answer records nothing more; a different answer on a closed item is refused', () => {
      const events = happened(start(), answer('req-a:orders-read', 'bob'));
      given(events).when(answer('req-a:orders-read', 'bob')).thenNothing();
      given(events)
        .when(answer('req-a:orders-read', 'bob', 'revoke'))
        .thenThrows(refused('item_closed'));
    });

    it('nobody reviews their own access: the attempt is recorded and refused (403)', () => {
      given(happened(start()))
        .when(answer('req-c:orders-read', 'bob'))
        .thenAssert((events) => {
          expect(events).toHaveLength(1);
          expect(events[0]).toMatchObject({ type: ApprovalCertificationBlocked.type, data: { attemptedById: 'bob', relation: 'beneficiary' } });
          expect(certificationRefusalIn(events)?.rejection).toBe('self_review');
        });
    });

    it('the owner of an NHI does not review it when the definition asks for someone else', () => {
      given(happened(start()))
        .when(answer('req-d:orders-read', 'carol'))
        .thenMatches([{ type: ApprovalCertificationBlocked.type, data: { relation: 'nhi_owner' } }]);
    });

    it('someone who is not a reviewer of the item is recorded and refused', () => {
      given(happened(start()))
        .when(answer('req-a:orders-read', 'dave'))
        .thenAssert((events) => expect(certificationRefusalIn(events)?.rejection).toBe('not_a_reviewer'));
    });

    it('reduce needs a new expiry after now and before the current one', () => {
      const events = happened(start());
      given(events)
        .when(answer('req-a:orders-read', 'bob', 'reduce'))
        .thenThrows(refused('invalid_expiry'));
      given(events)
        .when(answer('req-a:orders-read', 'bob', 'reduce', { newExpiresAt: '2026-04-01T00:00:00.000Z' }))
        .thenThrows(refused('invalid_expiry'));
      given(events)
        .when(answer('req-a:orders-read', 'bob', 'reduce', { newExpiresAt: '2026-01-10T00:00:00.000Z' }))
        .thenMatches([{ data: { decision: 'reduce', newExpiresAt: '2026-01-10T00:00:00.000Z' } }]);
    });

    it('an unknown item is refused', () => {
      given(happened(start())).when(answer('nope', 'bob')).thenThrows(refused('unknown_item'));
    });

    it('the last answer completes the campaign with its counts', () => {
      given(happened(start(), answer('req-a:orders-read', 'bob'), answer('req-b:orders-write', 'bob', 'revoke'), answer('req-c:orders-read', 'fay')))
        .when(answer('req-d:orders-read', 'bob', 'reduce', { newExpiresAt: '2026-01-10T00:00:00.000Z' }))
        .thenMatches([
          { type: ApprovalCertificationDecided.type },
          { type: ApprovalCampaignCompleted.type, data: { counts: { items: 4, certified: 2, revoked: 1, reduced: 1, lapsed: 0 } } },
        ]);
    });
  });

  describe('the deadline', () => {
    it('privileged items nobody answered are revoked; answered ones stay; the campaign completes', () => {
      given(happened(start(), answer('req-a:orders-read', 'bob'), answer('req-c:orders-read', 'fay')))
        .when(deadline())
        .thenAssert((events, after) => {
          expect(
            events.map((event) => [event.type, (event.data as { grantId?: string; action?: string }).grantId, (event.data as { action?: string }).action]),
          ).toEqual([
            [ApprovalCertificationLapsed.type, 'req-b:orders-write', 'revoke'],
            [ApprovalCertificationLapsed.type, 'req-d:orders-read', 'revoke'],
            [ApprovalCampaignCompleted.type, undefined, undefined],
          ]);
          expect(countsOf(after)).toMatchObject({ items: 4, certified: 2, revoked: 2, lapsed: 2, open: 0 });
        });
    });

    it('a non-privileged item is escalated to the reviewer’s manager with the escalation deadline; a second miss revokes it', () => {
      const lowRisk = parseCampaignDefinition({ ...quarterly, scope: {}, escalationDeadline: 'P1D' }, 'low.yaml');
      const low = makeCertificationDecider({
        directory,
        policy: DEFAULT_APPROVAL_POLICY,
        registry,
        eventId: deterministicEventId,
        definitions: new Map([['quarterly', lowRisk]]),
        requesterOf: () => undefined,
      });
      // The spec catalogue has no unprivileged entitlement: the item is made non-privileged in the snapshot.
      const started = low.decide(
        { ...(start() as Extract<CertificationCommand, { kind: 'start' }>), definition: lowRisk, candidates: [GRANTS[0]!] },
        low.initialState(),
      )[0]!;
      const data = started.data as CampaignStartedData;
      const nonPrivileged = registry.encode(ApprovalCampaignStarted, { ...data, items: data.items.map((item) => ({ ...item, privileged: false })) }, started);
      const escalated = low.decide(deadline(), foldEvents(low, [nonPrivileged]));
      expect(escalated).toHaveLength(1);
      expect(escalated[0]).toMatchObject({
        type: ApprovalCertificationLapsed.type,
        data: { action: 'escalate', escalatedToIds: ['fay'], dueAt: '2026-01-20T09:00:00.000Z' },
      });
      const second = low.decide(deadline('2026-01-20T09:00:00.000Z'), foldEvents(low, [nonPrivileged, ...escalated]));
      expect(second.map((event) => [event.type, (event.data as { action?: string }).action])).toEqual([
        [ApprovalCertificationLapsed.type, 'revoke'],
        [ApprovalCampaignCompleted.type, undefined],
      ]);
    });

    it('a stale timer (before the due time, or after completion) decides nothing', () => {
      given(happened(start())).when(deadline('2026-01-10T00:00:00.000Z')).thenNothing();
      given(happened(start(), deadline())).when(deadline('2026-02-01T00:00:00.000Z')).thenNothing();
    });
  });
});

describe('campaign definitions', () => {
  it('a scheduled definition without a cadence fails naming the field', () => {
    expect(() => parseCampaignDefinition({ ...quarterly, cadence: undefined }, 'bad.yaml')).toThrow(/bad\.yaml: .*cadence: .*needs a cadence/);
  });

  it('an unknown reviewer kind and a month duration fail naming each field', () => {
    expect(() => parseCampaignDefinition({ ...quarterly, reviewer: { kind: 'ceo' }, deadline: 'P1M' }, 'bad.yaml')).toThrow(/reviewer\.kind.*deadline/s);
  });
});
