// The notifier booted with the service kit (startService, transactional like main.ts) against the real Kafka
// from jest's global setup, in a Kafka namespace of its own: the facts it reacts to are published on this
// spec's topics only. The approvals and grants topics have one partition here, so a fact published after
// another is consumed after it: a later "marker" notification proves the earlier duplicate was handled.
import type { Type } from '@nestjs/common';
import { NotificationRequested, TOPICS, registry } from '@grantline/contracts';
import type { Envelope, NotificationRequestedData } from '@grantline/contracts';
import { KafkaMessageBus, deterministicEventId, silentLogger } from '@grantline/messaging';
import { startService } from '@grantline/service-kit';
import type { RunningService } from '@grantline/service-kit';
import { eventually, infraEndpoints, uniqueName } from '@grantline/testing';
import { NotifierFacts, REVIEW_DUE } from './testing/notifier-facts';

const { kafkaBrokers, mongoUrl } = infraEndpoints();
const namespace = uniqueName('ntf').replace(/_/g, '-');
const groupId = uniqueName('notifier_int_group');
const facts = new NotifierFacts();
const WAIT = { timeoutMs: 30_000, intervalMs: 250 };

describe('notifier service against real Kafka', () => {
  let bus: KafkaMessageBus;
  let service: RunningService | undefined;
  const ENV_KEYS = ['KAFKA_BROKERS', 'KAFKA_TOPIC_NAMESPACE', 'MONGO_URL', 'PORT', 'MONGO_DB', 'LOG_LEVEL'] as const;
  const savedEnv = Object.fromEntries(ENV_KEYS.map((key) => [key, process.env[key]]));

  const start = async (): Promise<RunningService> => {
    const { AppModule } = (await import('./app.module')) as { AppModule: Type<unknown> };
    return startService(AppModule, { serviceName: 'notifier', groupId, transactional: true, fromBeginning: true });
  };

  const notifications = async (): Promise<Envelope<NotificationRequestedData>[]> => {
    const events: Envelope<NotificationRequestedData>[] = [];
    await bus.replay({
      topics: [TOPICS.notifications],
      handler: async (event) => void (event.type === NotificationRequested.type && events.push(event as Envelope<NotificationRequestedData>)),
    });
    return events;
  };

  /** Waits until a notification for the request with the template is on the topic; returns them all. */
  const once = (requestId: string, template: string): Promise<Envelope<NotificationRequestedData>[]> =>
    eventually(async () => {
      const all = await notifications();
      if (!all.some((event) => event.data.refs.requestId === requestId && event.data.template === template))
        throw new Error(`no ${template} for ${requestId} yet`);
      return all;
    }, WAIT);

  const ofRequest = (all: Envelope<NotificationRequestedData>[], requestId: string): Envelope<NotificationRequestedData>[] =>
    all.filter((event) => event.data.refs.requestId === requestId);

  beforeAll(async () => {
    bus = new KafkaMessageBus({ clientId: uniqueName('notifier-spec'), brokers: kafkaBrokers, registry, logger: silentLogger, namespace });
    await bus.connect();
    await bus.ensureTopics([TOPICS.approvals, TOPICS.grants, TOPICS.notifications].map((topic) => ({ topic, partitions: 1 })));
    Object.assign(process.env, {
      KAFKA_BROKERS: kafkaBrokers.join(','),
      KAFKA_TOPIC_NAMESPACE: namespace,
      MONGO_URL: mongoUrl,
      PORT: '0',
      MONGO_DB: uniqueName('notifier_int'),
      LOG_LEVEL: 'warn',
    });
  });

  afterAll(async () => {
    await service?.stop();
    await bus?.disconnect();
    for (const key of ENV_KEYS) {
      if (savedEnv[key] === undefined) delete process.env[key];
      else process.env[key] = savedEnv[key];
    }
  });

  it('a break-glass grant published before the notifier started asks the security group once it runs', async () => {
    await bus.publisher.publish(TOPICS.approvals, [facts.breakGlassGranted('req-bg1'), facts.reviewOpened('req-bg1', ['lead-cy'])]);
    service = await start();

    const notices = ofRequest(await once('req-bg1', 'break_glass_granted'), 'req-bg1');
    expect(notices).toHaveLength(1);
    expect(notices[0]!.data).toEqual({
      notificationId: deterministicEventId('notification', 'break_glass_granted', 'req-bg1'),
      channel: 'chat',
      audience: { groupId: 'security' },
      template: 'break_glass_granted',
      refs: { requestId: 'req-bg1', reviewId: 'req-bg1:post-incident-review' },
      params: { beneficiaryId: 'oncall-bo', incident: 'INC0042', reviewerIds: 'lead-cy', reviewDueAt: REVIEW_DUE },
    });
    expect(notices[0]).toMatchObject({ source: 'grantline/notifier', subject: 'req-bg1', correlationid: 'req-bg1' });
  });

  it('a terminal provisioning failure alerts the alert group; a failure that will be retried does not', async () => {
    await bus.publisher.publish(TOPICS.grants, [
      facts.grantCreated('req-pf1'),
      facts.provisioningFailed('req-pf1', { terminal: false, attempts: 1 }),
      facts.provisioningFailed('req-pf1', { terminal: true, attempts: 3 }),
    ]);

    const alerts = ofRequest(await once('req-pf1', 'provisioning_failed'), 'req-pf1');
    expect(alerts.map((event) => event.data)).toEqual([
      {
        notificationId: 'alert:req-pf1:ent-orders-read:provision',
        channel: 'chat',
        audience: { groupId: 'security-oncall' },
        template: 'provisioning_failed',
        refs: { requestId: 'req-pf1', grantId: 'req-pf1:ent-orders-read' },
        params: { operation: 'provision', state: 'failed', connectorId: 'postgres', targetAccount: 'ada', code: 'target_account_missing', attempts: 3 },
      },
    ]);
  });

  it('a duplicate fact asks for no second notification, live and after a restart that rebuilds the state from the log', async () => {
    // Live: the same facts again, then a fresh break-glass and a fresh failure behind them on the same partitions.
    await bus.publisher.publish(TOPICS.approvals, [
      facts.reviewOpened('req-bg1', ['lead-cy']),
      facts.breakGlassGranted('req-bg2'),
      facts.reviewOpened('req-bg2'),
    ]);
    await bus.publisher.publish(TOPICS.grants, [
      facts.provisioningFailed('req-pf1', { terminal: true, attempts: 3 }),
      facts.grantCreated('req-pf2'),
      facts.provisioningFailed('req-pf2', { terminal: true }),
    ]);
    await once('req-bg2', 'break_glass_granted');
    await once('req-pf2', 'provisioning_failed');

    // Restarted with the same consumer group: the duplicates come after the committed offsets, the state only from the replay.
    await service!.stop();
    service = undefined;
    await bus.publisher.publish(TOPICS.approvals, [
      facts.breakGlassGranted('req-bg1'),
      facts.reviewOpened('req-bg1', ['lead-cy']),
      facts.breakGlassGranted('req-bg3'),
      facts.reviewOpened('req-bg3'),
    ]);
    await bus.publisher.publish(TOPICS.grants, [
      facts.provisioningFailed('req-pf2', { terminal: true }),
      facts.grantCreated('req-pf3'),
      facts.provisioningFailed('req-pf3', { terminal: true }),
    ]);
    service = await start();
    await once('req-bg3', 'break_glass_granted');
    const all = await once('req-pf3', 'provisioning_failed');

    for (const requestId of ['req-bg1', 'req-bg2', 'req-bg3', 'req-pf1', 'req-pf2', 'req-pf3']) expect(ofRequest(all, requestId)).toHaveLength(1);
    const ids = all.map((event) => event.data.notificationId);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
