import { Module } from '@nestjs/common';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { TimerFiredData } from '@grantline/contracts';
import { KafkaMessageBus, silentLogger } from '@grantline/messaging';
import type { MessageBus, RunningConsumer } from '@grantline/messaging';
import { KafkaEventTransport, MESSAGE_BUS, MessagingModule } from '@grantline/messaging-nest';
import { eventually, infraEndpoints, uniqueName } from '@grantline/testing';
import { schedulerEvents } from '../testing/scheduler-events';
import { schedulerRegistryOn } from '../testing/spec-registry';
import type { TimersStatus } from './timers.controller';
import { TimersModule } from './timers.module';

const DAY = 86_400_000;

interface Booted {
  readonly app: INestApplication;
  readonly transport: KafkaEventTransport;
  readonly url: string;
}

describe('TimersModule booted in NestJS against a real broker', () => {
  const { kafkaBrokers } = infraEndpoints();
  const spec = schedulerRegistryOn(uniqueName('sched_nest'));
  const e = schedulerEvents(spec.registry);
  const groupId = uniqueName('scheduler_nest');
  let client: KafkaMessageBus;
  let collector: RunningConsumer;
  const firings: TimerFiredData[] = [];
  const booted: Booted[] = [];

  async function boot(env: NodeJS.ProcessEnv): Promise<Booted> {
    @Module({
      imports: [
        MessagingModule.forRoot({ clientId: uniqueName('scheduler'), brokers: kafkaBrokers, registry: spec.registry, logger: silentLogger }),
        TimersModule.forRoot({ env: { SCHEDULER_TICK_INTERVAL_MS: '100', ...env }, logger: silentLogger }),
      ],
    })
    class SpecAppModule {}
    const app = await NestFactory.create(SpecAppModule, { logger: false });
    const transport = new KafkaEventTransport({ bus: app.get<MessageBus>(MESSAGE_BUS), registry: spec.registry, groupId });
    app.connectMicroservice({ strategy: transport });
    await app.startAllMicroservices();
    await app.listen(0, '127.0.0.1');
    const running = { app, transport, url: await app.getUrl() };
    booted.push(running);
    return running;
  }

  async function shutdown(running: Booted): Promise<void> {
    booted.splice(booted.indexOf(running), 1);
    await running.transport.close();
    await running.app.close();
  }

  const status = async (url: string): Promise<TimersStatus> => (await (await fetch(`${url}/v1/timers/status`)).json()) as TimersStatus;
  const advance = (url: string, body: unknown): Promise<Response> =>
    fetch(`${url}/v1/test-clock/advance`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  beforeAll(async () => {
    client = new KafkaMessageBus({ clientId: uniqueName('nest_client'), brokers: kafkaBrokers, registry: spec.registry, logger: silentLogger });
    await client.ensureTopics(Object.values(spec.topics).map((topic) => ({ topic, partitions: 2 })));
    collector = await client.consume({
      groupId: uniqueName('nest_collector'),
      topics: [spec.topics.schedule],
      fromBeginning: true,
      handler: async (event) => void firings.push(event.data as TimerFiredData),
    });
  });

  afterAll(async () => {
    for (const running of [...booted]) await shutdown(running);
    await collector.stop();
    await client.disconnect();
  });

  it('rebuilds at boot, takes live events through @EventPattern, and fires when the test clock is advanced over HTTP', async () => {
    // written before the service starts: only replay can know about it (40 days: past setTimeout's limit)
    await client.publisher.publish(spec.topics.grants, [e.grantCreated('g1', 'r1', new Date(Date.now() + 40 * DAY).toISOString())]);

    const first = await boot({ CLOCK: 'offset', ENABLE_TEST_CLOCK: 'true' });
    expect(await status(first.url)).toMatchObject({ rebuilt: true, pending: 1, fired: 0 });

    await client.publisher.publish(spec.topics.approvals, [e.taskOpened('t1', 'rt1', new Date(Date.now() + DAY).toISOString())]);
    await eventually(async () => expect((await status(first.url)).pending).toBe(2), { timeoutMs: 30_000 });

    const twoDays = await advance(first.url, { duration: 'P2D' });
    expect(twoDays.status).toBe(200);
    expect(await twoDays.json()).toMatchObject({ advancedMs: 2 * DAY, fired: 1 });
    const rest = await advance(first.url, { ms: 39 * DAY });
    expect(await rest.json()).toMatchObject({ fired: 1 });

    await eventually(() => expect(firings.map((data) => data.timerId).sort()).toEqual(['approval_deadline:t1', 'grant_expiry:g1']), { timeoutMs: 20_000 });
  });

  it('rejects a malformed advance with 400 and moves nothing', async () => {
    const running = booted[0]!;
    const before = Date.parse((await status(running.url)).now);

    for (const body of [{}, { ms: -1 }, { duration: 'P1M' }, { ms: 1, duration: 'PT1H' }, { hours: 3 }]) {
      expect((await advance(running.url, body)).status).toBe(400);
    }

    // the clock still runs in real time, so allow the seconds this test took, not days
    expect(Date.parse((await status(running.url)).now) - before).toBeLessThan(DAY);
  });

  it('after a restart keeps its time from the log, fires nothing twice, and hides the endpoint when disabled', async () => {
    await shutdown(booted[0]!);
    await client.publisher.publish(spec.topics.grants, [e.grantCreated('g2', 'r2', new Date(Date.now() + 50 * DAY).toISOString())]);

    const second = await boot({ CLOCK: 'offset', ENABLE_TEST_CLOCK: 'true' });
    const rebuilt = await status(second.url);
    expect(rebuilt).toMatchObject({ rebuilt: true, fired: 2, pending: 1 });
    // the offset died with the first process; the clock resumed from the latest firing in the log (~41 days on)
    expect(Date.parse(rebuilt.now) - Date.now()).toBeGreaterThan(40 * DAY);
    expect(await (await advance(second.url, { duration: 'P10D' })).json()).toMatchObject({ fired: 1 });
    await eventually(() => expect(firings).toHaveLength(3), { timeoutMs: 20_000 });
    await shutdown(second);

    const third = await boot({});
    expect(await status(third.url)).toMatchObject({ rebuilt: true, fired: 3, pending: 0 });
    expect((await advance(third.url, { ms: 1 })).status).toBe(404);
    expect(new Set(firings.map((data) => data.timerId)).size).toBe(firings.length);
  });
});
