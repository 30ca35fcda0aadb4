import { HealthIndicatorService } from '@nestjs/terminus';
import type { BusHealth, ConsumerHealth, MessageBus } from '@grantline/messaging';
import { MessagingHealthIndicator } from './messaging.module';

function indicatorFor(health: BusHealth): MessagingHealthIndicator {
  const bus = { health: async () => health } as unknown as MessageBus;
  return new MessagingHealthIndicator(bus, new HealthIndicatorService());
}

const halted: ConsumerHealth = {
  groupId: 'provisioning',
  ok: false,
  problems: [
    {
      state: 'halted',
      topic: 'iga.grants.v1',
      partition: 2,
      offset: '41',
      eventType: 'iga.grant.revoked.v3',
      reason: 'event type unknown to this service: iga.grant.revoked.v3',
      since: '2025-01-01T00:00:00.000Z',
    },
  ],
};

describe('MessagingHealthIndicator', () => {
  it('given brokers that answer and consumers without problems, then it is up', async () => {
    expect(await indicatorFor({ ok: true, brokers: 1, consumers: [{ groupId: 'g', ok: true, problems: [] }] }).isHealthy()).toEqual({
      kafka: { status: 'up', brokers: 1 },
    });
  });

  it('given no broker answers, then it is down with the reason', async () => {
    expect(await indicatorFor({ ok: false, brokers: 0, detail: 'no answer from Kafka within 2000 ms' }).isHealthy()).toEqual({
      kafka: { status: 'down', brokers: 0, detail: 'no answer from Kafka within 2000 ms' },
    });
  });

  it('given a halted consumer, then it is down naming topic, partition, offset and type', async () => {
    const result = await indicatorFor({
      ok: false,
      brokers: 1,
      detail: 'provisioning: iga.grants.v1/2 halted at offset 41 (iga.grant.revoked.v3)',
      consumers: [halted],
    }).isHealthy();
    expect(result['kafka']).toMatchObject({
      status: 'down',
      detail: expect.stringMatching(/halted at offset 41/),
      consumers: [{ groupId: 'provisioning', state: 'halted', topic: 'iga.grants.v1', partition: 2, offset: '41', eventType: 'iga.grant.revoked.v3' }],
    });
  });

  it('given a transport that reports a consumer problem but still says ok, then it is down all the same (fail closed)', async () => {
    const stalled: ConsumerHealth = {
      groupId: 'audit',
      ok: false,
      problems: [
        {
          state: 'stalled',
          topic: 'iga.audit.v1',
          partition: 0,
          offset: '7',
          cause: 'failing',
          reason: 'handler failing for 61000 ms',
          since: '2025-01-01T00:00:00.000Z',
        },
      ],
    };
    const result = await indicatorFor({ ok: true, brokers: 1, consumers: [stalled] }).isHealthy('kafka');
    expect(result['kafka']).toMatchObject({ status: 'down', detail: '1 consumer problem(s)', consumers: [{ groupId: 'audit', state: 'stalled' }] });
  });
});
