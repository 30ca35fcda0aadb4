import { resolve } from 'node:path';
import { ApprovalCampaignStarted, PolicyDecisionRecordedV1, PolicyReviewItemsEvaluated, isEvent, registry } from '@grantline/contracts';
import type { CampaignStartedData, CertificationItem, DecisionRecordedData, Envelope, RequestSubmittedData } from '@grantline/contracts';
import { foldEvents } from '@grantline/decider';
import { loadBundleFromDirectory, loadBundleFromFiles, readBundleDirectory } from '@grantline/policy-engine';
import type { Bundle, BundleFile } from '@grantline/policy-engine';
import { deciderSpec } from '@grantline/testing';
import { specEventId } from '../testing/event-id';
import { catalogEvent, identityEvents, requestEvent } from '../testing/policy-scenario.fixtures';
import { digestHex } from './decision-record.mapper';
import { makePolicyDecider } from './policy.decider';
import { makeReviewReevaluationDecider, requestsWithoutDecision } from './review-reevaluation';

const POLICIES = resolve(__dirname, '../../../../policies');
const shipped = loadBundleFromDirectory(POLICIES);
/** Today's bundle: the shipped one plus a rule that freezes the orders database. */
const frozen = loadBundleFromFiles([
  ...readBundleDirectory(POLICIES),
  {
    path: 'freeze.yaml',
    content: 'kind: RuleSet\nrules:\n  - id: freeze\n    match: { systems: [orders-db] }\n    effect: deny\n    reason: "orders-db is frozen"\n',
  } satisfies BundleFile,
]);

const directory = foldEvents(makePolicyDecider({ bundle: shipped, registry, eventId: specEventId }), [...identityEvents(), catalogEvent()]);

/** The decision the service recorded for the request, under `bundle`. */
const recordedFor = (request: Envelope<RequestSubmittedData>, bundle: Bundle = shipped): Envelope<DecisionRecordedData> => {
  const [decision] = makePolicyDecider({ bundle, registry, eventId: specEventId }).decide({ request, waitedOut: true }, directory);
  if (decision === undefined) throw new Error(`${request.data.requestId} was not decided`);
  return decision;
};

const CAMPAIGN_ID = 'quarterly-privileged:2025-09-01T00:00:00.000Z';

const itemOf = (requestId: string, entitlementId: string): CertificationItem => ({
  itemId: `${CAMPAIGN_ID}:${requestId}:${entitlementId}`,
  grantId: `${requestId}:${entitlementId}`,
  requestId,
  beneficiaryId: 'alice',
  beneficiaryKind: 'human',
  entitlementId,
  systemId: entitlementId.startsWith('orders') ? 'orders-db' : 'wiki',
  sensitivity: 'high',
  environment: 'prod',
  privileged: true,
  expiresAt: '2025-10-01T00:00:00.000Z',
  reviewerIds: ['bob'],
});

const campaignStarted = (items: readonly CertificationItem[]): Envelope<CampaignStartedData> =>
  registry.encode(
    ApprovalCampaignStarted,
    {
      campaignId: CAMPAIGN_ID,
      definitionId: 'quarterly-privileged',
      trigger: 'schedule',
      startedAt: '2025-09-01T00:00:00.000Z',
      dueAt: '2025-09-15T00:00:00.000Z',
      onNoAnswer: 'revoke',
      items: [...items],
    },
    {
      id: 'evt-campaign-started',
      source: 'grantline/approval',
      time: '2025-09-01T00:00:00.000Z',
      subject: CAMPAIGN_ID,
      correlationid: CAMPAIGN_ID,
      actor: { kind: 'service', id: 'approval' },
    },
  );

const ordersRequest = requestEvent('req-orders');
const ordersItem = itemOf('req-orders', 'orders-read');
const today = (bundle: Bundle) => deciderSpec(makeReviewReevaluationDecider({ bundle, registry, eventId: specEventId }));

describe('review items re-evaluated: what today’s bundle decides for the input recorded at grant time', () => {
  it('Given a decision recorded under the bundle of the day, When its campaign starts, Then one event says the verdict is unchanged', () => {
    const recorded = recordedFor(ordersRequest);
    today(shipped)([recorded])
      .when({ campaign: campaignStarted([ordersItem]) })
      .then([
        registry.encode(
          PolicyReviewItemsEvaluated,
          {
            campaignId: CAMPAIGN_ID,
            currentBundleDigest: digestHex(shipped.digest),
            items: [
              {
                itemId: ordersItem.itemId,
                grantId: ordersItem.grantId,
                requestId: 'req-orders',
                outcome: 'evaluated',
                recordedDecisionId: recorded.data.decisionId,
                recordedBundleDigest: recorded.data.bundleDigest,
                recordedEffect: recorded.data.effect,
                currentEffect: recorded.data.effect,
                currentReasons: recorded.data.reasons.slice(0, 3),
                changed: false,
              },
            ],
          },
          {
            id: specEventId('review-items-evaluated', CAMPAIGN_ID),
            source: 'grantline/policy',
            time: '2025-09-01T00:00:00.000Z',
            subject: CAMPAIGN_ID,
            correlationid: CAMPAIGN_ID,
            causationid: 'evt-campaign-started',
            actor: { kind: 'service', id: 'policy' },
          },
        ),
      ]);
  });

  it('Given a grant decided under the shipped bundle, When a campaign starts under a bundle that freezes its system, Then the item is changed, with today’s reason', () => {
    const recorded = recordedFor(ordersRequest);
    expect(recorded.data.effect).not.toBe('deny');
    today(frozen)([recorded])
      .when({ campaign: campaignStarted([ordersItem]) })
      .thenMatches([
        {
          type: PolicyReviewItemsEvaluated.type,
          data: {
            currentBundleDigest: digestHex(frozen.digest),
            items: [
              {
                outcome: 'evaluated',
                recordedBundleDigest: digestHex(shipped.digest),
                recordedEffect: recorded.data.effect,
                currentEffect: 'deny',
                changed: true,
                currentReasons: expect.arrayContaining(['orders-db is frozen']) as unknown,
              },
            ],
          },
        },
      ]);
  });

  it('Given a request decided twice (a new bundle after a restart), When re-evaluated, Then the first decision, the one that routed it, is compared', () => {
    const first = recordedFor(ordersRequest);
    today(frozen)([first, recordedFor(ordersRequest, frozen)])
      .when({ campaign: campaignStarted([ordersItem]) })
      .thenAssert((events) => {
        const [evaluated] = events;
        if (!evaluated || !isEvent(evaluated, PolicyReviewItemsEvaluated)) throw new Error('expected review-items-evaluated');
        expect(evaluated.data.items[0]).toMatchObject({ recordedDecisionId: first.data.decisionId, recordedBundleDigest: digestHex(shipped.digest) });
      });
  });

  it('Given no, a v1 and a refused decision, When their campaign starts, Then each item is unknown and says why', () => {
    const v1 = recordedFor(requestEvent('req-v1'));
    const { evaluation: _dropped, ...v1Data } = v1.data;
    const { id: _id, source, time, subject, correlationid, actor } = v1;
    const v1Record = registry.encode(PolicyDecisionRecordedV1, v1Data, { id: 'evt-v1-decision', source, time, subject, correlationid, actor });
    const refused = recordedFor(requestEvent('req-refused', { items: { entitlementIds: ['nope'] } }));
    expect(refused.data.evaluation.outcome).toBe('refused_before_evaluation');
    const items = [itemOf('req-missing', 'orders-read'), itemOf('req-v1', 'orders-read'), itemOf('req-refused', 'nope')];
    today(shipped)([registry.decode(JSON.parse(JSON.stringify(v1Record))), refused])
      .when({ campaign: campaignStarted(items) })
      .thenMatches([
        {
          data: {
            items: [
              { requestId: 'req-missing', outcome: 'unknown', reason: 'no_recorded_decision' },
              { requestId: 'req-v1', outcome: 'unknown', reason: 'recorded_before_v2', recordedEffect: v1.data.effect },
              {
                requestId: 'req-refused',
                outcome: 'unknown',
                reason: 'refused_before_evaluation',
                recordedEffect: 'deny',
                detail: expect.stringContaining('nope') as unknown,
              },
            ],
          },
        },
      ]);
  });

  it('Given the campaign was answered already, When its start is delivered again (even under a new bundle), Then nothing new is published', () => {
    const recorded = recordedFor(ordersRequest);
    const [answer] = makeReviewReevaluationDecider({ bundle: shipped, registry, eventId: specEventId }).decide(
      { campaign: campaignStarted([ordersItem]) },
      foldEvents(makeReviewReevaluationDecider({ bundle: shipped, registry, eventId: specEventId }), [recorded]),
    );
    if (answer === undefined) throw new Error('expected an answer');
    today(frozen)([recorded, answer])
      .when({ campaign: campaignStarted([ordersItem]) })
      .thenNothing();
  });

  it('Given decisions folded for some requests, When a campaign names others, Then those are the ones to fence for', () => {
    const facts = foldEvents(makeReviewReevaluationDecider({ bundle: shipped, registry, eventId: specEventId }), [recordedFor(ordersRequest)]);
    expect(requestsWithoutDecision(campaignStarted([ordersItem, itemOf('req-later', 'orders-read')]).data, facts)).toEqual(['req-later']);
  });
});
