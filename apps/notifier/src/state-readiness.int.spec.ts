// Fail closed at start, against the real Kafka and FerretDB of jest's global setup: the notifier booted with the
// service kit (startService, transactional like main.ts) in a Kafka namespace and database of its own, with the
// fault injected through the bus: the service's MessageBus refuses `replay` while `faulty` is set, as a broker
// that cannot serve the start-up replay would. Until a replay succeeds the service is not ready (503 naming its
// state and the error) and its consumer holds the facts it received instead of deriving from an empty state; once
// the fault clears, it becomes ready by itself and does the work, once. Stopping it while it waits loses nothing.
import type { Type } from '@nestjs/common';
import { NotificationRequested, TOPICS, registry } from '@grantline/contracts';
import type { Envelope, NotificationRequestedData } from '@grantline/contracts';
import { KafkaMessageBus, silentLogger } from '@grantline/messaging';
import type { MessageBus, ReplayOptions } from '@grantline/messaging';
import { MESSAGE_BUS } from '@grantline/messaging-nest';
import { startService } from '@grantline/service-kit';
import type { RunningService } from '@grantline/service-kit';
import { eventually, infraEndpoints, uniqueName } from '@grantline/testing';
import { NotifierFacts } from './testing/notifier-facts';

const { kafkaBrokers, mongoUrl } = infraEndpoints();
const namespace = uniqueName('ntf-ready').replace(/_/g, '-');
const groupId = uniqueName('notifier_ready_group');
const facts = new NotifierFacts();
const WAIT = { timeoutMs: 45_000, intervalMs: 250 };
const INJECTED = 'injected fault: the brokers cannot serve the replay';

interface Readiness {
  readonly status: number;
  readonly body: { status: string; info?: Record<string, { status: string }>; error?: Record<string, { status: string; detail?: string; lastError?: string }> };
}

describe('notifier whose start-up replay fails (real Kafka)', () => {
  let bus: KafkaMessageBus;
  let service: RunningService | undefined;
  /** While set, every replay of a bus other than the spec's own fails. */
  let faulty = false;
  let refusedReplays = 0;
  const ENV_KEYS = ['KAFKA_BROKERS', 'KAFKA_TOPIC_NAMESPACE', 'MONGO_URL', 'PORT', 'MONGO_DB', 'LOG_LEVEL'] as const;
  const savedEnv = Object.fromEntries(ENV_KEYS.map((key) => [key, process.env[key]]));

  const start = async (): Promise<RunningService> => {
    const { AppModule } = (await import('./app.module')) as { AppModule: Type<unknown> };
    return startService(AppModule, { serviceName: 'notifier', groupId, transactional: true, fromBeginning: true });
  };

  const ready = async (running: RunningService): Promise<Readiness> => {
    const response = await fetch(`${running.url}/health/ready`);
    return { status: response.status, body: (await response.json()) as Readiness['body'] };
  };

  /** What the service's own consumer has taken from Kafka, and finished. */
  const progress = (running: RunningService): { consumed: number; handled: number } => {
    const { consumed, handled } = running.app.get<MessageBus>(MESSAGE_BUS).metrics();
    return { consumed, handled };
  };

  const notificationsFor = async (requestId: string): Promise<Envelope<NotificationRequestedData>[]> => {
    const events: Envelope<NotificationRequestedData>[] = [];
    await bus.replay({
      topics: [TOPICS.notifications],
      handler: async (event) => {
        if (event.type === NotificationRequested.type && (event as Envelope<NotificationRequestedData>).data.refs.requestId === requestId) {
          events.push(event as Envelope<NotificationRequestedData>);
        }
      },
    });
    return events;
  };

  beforeAll(async () => {
    bus = new KafkaMessageBus({ clientId: uniqueName('notifier-ready-spec'), brokers: kafkaBrokers, registry, logger: silentLogger, namespace });
    await bus.connect();
    await bus.ensureTopics([TOPICS.approvals, TOPICS.grants, TOPICS.notifications].map((topic) => ({ topic, partitions: 1 })));
    const replay = KafkaMessageBus.prototype.replay;
    jest.spyOn(KafkaMessageBus.prototype, 'replay').mockImplementation(function (this: KafkaMessageBus, options: ReplayOptions): Promise<number> {
      if (this !== bus && faulty) {
        refusedReplays += 1;
        return Promise.reject(new Error(INJECTED));
      }
      return replay.call(this, options);
    });
    Object.assign(process.env, {
      KAFKA_BROKERS: kafkaBrokers.join(','),
      KAFKA_TOPIC_NAMESPACE: namespace,
      MONGO_URL: mongoUrl,
      PORT: '0',
      MONGO_DB: uniqueName('notifier_ready'),
      // the retries are warnings; the assertions say what matters
      LOG_LEVEL: 'error',
    });
  });

  afterAll(async () => {
    faulty = false;
    await service?.stop();
    jest.restoreAllMocks();
    await bus?.disconnect();
    for (const key of ENV_KEYS) {
      if (savedEnv[key] === undefined) delete process.env[key];
      else process.env[key] = savedEnv[key];
    }
  });

  it('is not ready and derives nothing while its replay fails, then becomes ready by itself and notifies once', async () => {
    // Given a break-glass grant on the log, and a broker that cannot serve the start-up replay
    await bus.publisher.publish(TOPICS.approvals, [facts.breakGlassGranted('req-rf1'), facts.reviewOpened('req-rf1', ['lead-cy'])]);
    faulty = true;
    service = await start();
    const running = service;

    // When its consumer has taken the fact and the replay has failed at least twice
    await eventually(() => {
      expect(refusedReplays).toBeGreaterThanOrEqual(2);
      expect(progress(running).consumed).toBeGreaterThanOrEqual(1);
    }, WAIT);

    // Then readiness is 503, naming the state and the last error
    const notReady = await ready(running);
    expect(notReady.status).toBe(503);
    expect(notReady.body.error?.['notifier state']).toEqual({ status: 'down', detail: 'not loaded', lastError: `Error: ${INJECTED}` });
    // ...and the fact is held, not derived from an empty state: nothing handled, nothing published
    expect(progress(running).handled).toBe(0);
    expect(await notificationsFor('req-rf1')).toEqual([]);

    // When the fault clears
    faulty = false;

    // Then it becomes ready by itself and does the held work, once
    const recovered = await eventually(async () => {
      const answer = await ready(running);
      expect(answer.status).toBe(200);
      return answer;
    }, WAIT);
    expect(recovered.body.info?.['notifier state']).toEqual({ status: 'up' });
    const notices = await eventually(async () => {
      const found = await notificationsFor('req-rf1');
      expect(found.map((event) => event.data.template)).toContain('break_glass_granted');
      return found;
    }, WAIT);
    expect(notices.filter((event) => event.data.template === 'break_glass_granted')).toHaveLength(1);
  });

  it('stops promptly while its replay fails, and loses nothing: the held fact is notified after the next start', async () => {
    // The app module (and so its bus and the bus's counters) is the same across starts: count from here.
    const before = service === undefined ? { consumed: 0, handled: 0 } : progress(service);
    await service?.stop();
    service = undefined;
    // Given a new fact, and a start whose replay fails
    await bus.publisher.publish(TOPICS.approvals, [facts.breakGlassGranted('req-rf2'), facts.reviewOpened('req-rf2', ['lead-cy'])]);
    faulty = true;
    const refusedBefore = refusedReplays;
    service = await start();
    const waiting = service;
    await eventually(() => {
      expect(refusedReplays).toBeGreaterThan(refusedBefore);
      expect(progress(waiting).consumed).toBeGreaterThan(before.consumed);
    }, WAIT);
    expect(progress(waiting).handled).toBe(before.handled);

    // When it is stopped: the waiting handler is released, so the stop completes (within the spec's timeout)
    await waiting.stop();
    service = undefined;
    expect(await notificationsFor('req-rf2')).toEqual([]);

    // Then the next start, with the fault cleared, finds the fact uncommitted and notifies it once
    faulty = false;
    service = await start();
    const notices = await eventually(async () => {
      const found = await notificationsFor('req-rf2');
      expect(found.map((event) => event.data.template)).toContain('break_glass_granted');
      return found;
    }, WAIT);
    expect(notices.filter((event) => event.data.template === 'break_glass_granted')).toHaveLength(1);
    // ...and the first fact is not notified again
    expect((await notificationsFor('req-rf1')).filter((event) => event.data.template === 'break_glass_granted')).toHaveLength(1);
  });
});
