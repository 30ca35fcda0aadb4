import { resolve } from 'node:path';
import { Logger, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { CqrsModule } from '@nestjs/cqrs';
import { ApprovalCampaignStarted, PolicyReviewItemsEvaluated, TOPICS, registry } from '@grantline/contracts';
import type { CampaignStartedData, CertificationItem, Envelope } from '@grantline/contracts';
import { InMemoryMessageBus } from '@grantline/messaging';
import { KafkaEventContext, MessagingModule } from '@grantline/messaging-nest';
import { loadBundleFromDirectory } from '@grantline/policy-engine';
import { ServiceMetrics } from '@grantline/service-kit';
import { ManualTimers } from '@grantline/testing';
import { catalogEvent, identityEvents, requestEvent } from '../testing/policy-scenario.fixtures';
import { DecideRequestHandler } from './decide-request.command';
import { DecisionsHandler } from './decisions.handler';
import { DirectoryWaitService, WAIT_TIMERS } from './directory-wait.service';
import { POLICY_CONFIG } from './policy.config';
import { POLICY_BUNDLE } from './policy-bundle.provider';
import { policyDeciderProvider } from './policy-decider.provider';
import { PolicyStateService } from './policy-state.service';
import { ReviewItemsHandler } from './review-items.handler';

beforeAll(() => Logger.overrideLogger(false));

const shipped = loadBundleFromDirectory(resolve(__dirname, '../../../../policies'));
const CAMPAIGN_ID = 'quarterly:2025-09-01T00:00:00.000Z';

const item = (requestId: string): CertificationItem => ({
  itemId: `${CAMPAIGN_ID}/${requestId}:orders-read`,
  grantId: `${requestId}:orders-read`,
  requestId,
  beneficiaryId: 'alice',
  beneficiaryKind: 'human',
  entitlementId: 'orders-read',
  systemId: 'orders-db',
  sensitivity: 'high',
  environment: 'prod',
  privileged: true,
  expiresAt: '2025-10-01T00:00:00.000Z',
  reviewerIds: ['bob'],
});

const campaignStarted = (...items: CertificationItem[]): Envelope<CampaignStartedData> =>
  registry.encode(
    ApprovalCampaignStarted,
    {
      campaignId: CAMPAIGN_ID,
      definitionId: 'quarterly',
      trigger: 'schedule',
      startedAt: '2025-09-01T00:00:00.000Z',
      dueAt: '2025-09-15T00:00:00.000Z',
      onNoAnswer: 'revoke',
      items,
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

/** The policy service's decisions wiring plus the review-items handler, over a log holding `events`. */
const sutOver = async (...events: Envelope[]) => {
  const bus = new InMemoryMessageBus({ registry });
  bus.append(...events);
  @Module({
    imports: [MessagingModule.forRoot({ clientId: 'policy-review-items-spec', registry, bus }), CqrsModule.forRoot()],
    controllers: [DecisionsHandler, ReviewItemsHandler],
    providers: [
      { provide: POLICY_BUNDLE, useValue: shipped },
      { provide: POLICY_CONFIG, useValue: { directoryWaitMs: 0 } },
      { provide: WAIT_TIMERS, useValue: new ManualTimers() },
      { provide: ServiceMetrics, useValue: new ServiceMetrics('policy') },
      policyDeciderProvider,
      PolicyStateService,
      DirectoryWaitService,
      DecideRequestHandler,
    ],
  })
  class ReviewItemsSpecModule {}
  const app = await NestFactory.createApplicationContext(ReviewItemsSpecModule, { logger: false });
  return { app, bus, decisions: app.get(DecisionsHandler), reviewItems: app.get(ReviewItemsHandler) };
};

describe('ReviewItemsHandler', () => {
  it('answers a campaign with today’s verdict for a decision published before it, even one the live consumer has not delivered yet', async () => {
    const { app, bus, decisions, reviewItems } = await sutOver(...identityEvents(), catalogEvent());
    try {
      const [decision] = await decisions.onRequestSubmitted(requestEvent('req-1'));
      if (decision === undefined) throw new Error('expected a decision');
      // Published, but not handed to the live consumer: the handler must find it on the log.
      bus.append(decision);

      const [answer] = await reviewItems.onCampaignStarted(campaignStarted(item('req-1'), item('req-never-decided')));

      expect(answer).toMatchObject({ type: PolicyReviewItemsEvaluated.type, subject: CAMPAIGN_ID, causationid: 'evt-campaign-started' });
      expect(answer?.data).toMatchObject({
        campaignId: CAMPAIGN_ID,
        items: [
          { requestId: 'req-1', outcome: 'evaluated', recordedDecisionId: decision.data.decisionId, recordedEffect: decision.data.effect, changed: false },
          { requestId: 'req-never-decided', outcome: 'unknown', reason: 'no_recorded_decision' },
        ],
      });

      // Its own answer read back from the decisions topic: a redelivered campaign start publishes nothing new.
      if (answer === undefined) throw new Error('expected an answer');
      bus.append(answer);
      let position: { partition: number; offset: string } | undefined;
      await bus.replay({
        topics: [TOPICS.decisions],
        handler: async (event, { partition, offset }) => {
          if (event.id === answer.id) position = { partition, offset };
        },
      });
      if (position === undefined) throw new Error('the answer is not on the log');
      await reviewItems.onOwnRecord(
        answer,
        new KafkaEventContext({ topic: TOPICS.decisions, ...position, key: null, groupId: 'policy', attempt: 1, heartbeat: async () => undefined }),
      );
      expect(app.get(PolicyStateService).recordedDecisions.evaluatedCampaigns.has(CAMPAIGN_ID)).toBe(true);
      expect(await reviewItems.onCampaignStarted(campaignStarted(item('req-1'), item('req-never-decided')))).toEqual([]);
    } finally {
      await app.close();
    }
  });
});
