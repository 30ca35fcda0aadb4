import { Controller, Module } from '@nestjs/common';
import { EventPattern } from '@nestjs/microservices';
import { GrantActivated, TOPICS, connectorCommandsTopic, connectorResultsTopic, registry } from '@grantline/contracts';
import { KafkaMessageBus, createLegacyTopics, silentLogger } from '@grantline/messaging';
import { ServiceKitModule, startService } from '@grantline/service-kit';
import type { RunningService } from '@grantline/service-kit';
import { infraEndpoints, uniqueName } from '@grantline/testing';
import { bufferedOutput } from '../output';
import { topicsCheck, topicsRetainForever, withTopicsAdmin } from './topics-commands';

const { kafkaBrokers, mongoUrl } = infraEndpoints();
const WEEK_MS = '604800000';

@Controller()
class GrantsReader {
  @EventPattern(GrantActivated.type)
  async onActivated(): Promise<void> {}
}

/** A service that owns the schedule and reads grants, as the scheduler does: the one that loses expiry timers. */
function timerServiceModule(namespace: string): new () => unknown {
  const env = {
    KAFKA_BROKERS: kafkaBrokers.join(','),
    MONGO_URL: mongoUrl,
    KAFKA_TOPIC_NAMESPACE: namespace,
    PORT: '0',
    MONGO_DB: uniqueName('topics_int'),
    LOG_LEVEL: 'silent',
  };
  @Module({ imports: [ServiceKitModule.forRoot({ serviceName: 'topics-int', env, topics: [TOPICS.schedule] })], controllers: [GrantsReader] })
  class TimerServiceModule {}
  return TimerServiceModule;
}

describe('lifecycle topics keep every record, on the real broker', () => {
  const buses: KafkaMessageBus[] = [];
  const running: RunningService[] = [];
  const busIn = (namespace: string): KafkaMessageBus => {
    const bus = new KafkaMessageBus({ clientId: uniqueName('topics-int'), brokers: kafkaBrokers, registry, logger: silentLogger, namespace });
    buses.push(bus);
    return bus;
  };
  const namespaceFor = (name: string): string => uniqueName(name).replace(/_/g, '-').toLowerCase();

  afterAll(async () => {
    await Promise.all(running.map((service) => service.stop()));
    for (const bus of buses) await bus.deleteNamespace().catch(() => undefined);
    await Promise.all(buses.map((bus) => bus.disconnect()));
  });

  it('given the whole catalogue ensured, then every lifecycle topic keeps every record and topics check says so', async () => {
    const namespace = namespaceFor('topics-all');
    const bus = busIn(namespace);
    const catalogue = [...Object.values(TOPICS), connectorCommandsTopic('spec'), connectorResultsTopic('spec')];
    await bus.ensureTopics([...catalogue.map((topic) => ({ topic, partitions: 1 })), { topic: 'spec-scratch', partitions: 1 }]);

    expect(await bus.topicRetentionProblems(catalogue)).toEqual([]);
    const io = bufferedOutput();
    expect(await withTopicsAdmin({ brokers: kafkaBrokers.join(','), namespace }, io, (admin) => topicsCheck(admin, io))).toBe(0);
    expect(io.stdout()).toBe(`${catalogue.length} lifecycle topic(s) keep every record\n`);
  });

  it('given a topic a service reads pre-created with 7 days of retention, then the service refuses to start naming it, and starts after retain-forever', async () => {
    const namespace = namespaceFor('topics-legacy');
    const grants = `${namespace}.${TOPICS.grants}`;
    await createLegacyTopics(kafkaBrokers, [{ topic: grants, configEntries: { 'retention.ms': WEEK_MS, 'max.message.bytes': '2097152' } }]);

    const refused = startService(timerServiceModule(namespace), { serviceName: 'topics-int', groupId: uniqueName('topics-int') });
    await expect(refused).rejects.toThrow(`${grants}: retention.ms=${WEEK_MS} (records older than 7 d are deleted); required retention.ms=-1`);
    await expect(refused).rejects.toThrow(`fix: grantline topics retain-forever --namespace ${namespace}`);

    const check = bufferedOutput();
    const cli = { brokers: kafkaBrokers.join(','), namespace };
    expect(await withTopicsAdmin(cli, check, (admin) => topicsCheck(admin, check))).toBe(1);
    expect(check.stdout()).toContain(`${grants}  retention.ms=${WEEK_MS}  required -1`);

    const fix = bufferedOutput();
    expect(await withTopicsAdmin(cli, fix, (admin) => topicsRetainForever(admin, fix))).toBe(0);
    expect(fix.stdout()).toContain(`${grants}: retention.ms ${WEEK_MS} -> -1`);
    const again = bufferedOutput();
    expect(await withTopicsAdmin(cli, again, (admin) => topicsRetainForever(admin, again))).toBe(0);
    expect(again.stdout()).not.toContain(grants);
    expect(again.stdout()).toMatch(/^changed 0 of \d+ lifecycle topic\(s\)/m);

    const service = await startService(timerServiceModule(namespace), { serviceName: 'topics-int', groupId: uniqueName('topics-int') });
    running.push(service);
    expect((await fetch(`${service.url}/health/live`)).status).toBe(200);
    expect(await busIn(namespace).topicRetentionProblems([TOPICS.grants, TOPICS.schedule])).toEqual([]);
  });

  it('given a lifecycle topic pre-created compacted, then ensureTopics refuses it naming cleanup.policy', async () => {
    const namespace = namespaceFor('topics-compact');
    await createLegacyTopics(kafkaBrokers, [{ topic: `${namespace}.${TOPICS.catalog}`, configEntries: { 'cleanup.policy': 'compact' } }]);
    await expect(busIn(namespace).ensureTopics([{ topic: TOPICS.catalog }])).rejects.toThrow(
      `${namespace}.${TOPICS.catalog}: cleanup.policy=compact (compaction keeps only the latest record of each key); required cleanup.policy=delete`,
    );
  });
});
