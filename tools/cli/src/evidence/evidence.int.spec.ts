import { ApprovalSelfApprovalBlocked, IdentityOffboarded, IdentityUpserted, TOPICS, registry } from '@grantline/contracts';
import type { Envelope, EventDefinition } from '@grantline/contracts';
import type { EvidencePack } from '@grantline/evidence';
import { KafkaMessageBus, silentLogger } from '@grantline/messaging';
import { infraEndpoints, uniqueName } from '@grantline/testing';
import { kafkaSettings, openBus } from '../connection';
import { bufferedOutput } from '../output';
import type { Progress } from '../progress';
import { evidenceCommand } from './evidence-command';

const { kafkaBrokers } = infraEndpoints();

let sequence = 0;
function encode<TData>(def: EventDefinition<string, TData>, data: TData, time: string, subject: string): Envelope {
  sequence += 1;
  return registry.encode(def, data, {
    id: `cli-int-${sequence}`,
    source: 'spec',
    time,
    subject,
    correlationid: subject,
    actor: { kind: 'service', id: 'spec' },
  });
}

describe('grantline evidence on the real broker', () => {
  const namespace = uniqueName('cli-evidence').replace(/_/g, '-');
  const buses: KafkaMessageBus[] = [];
  afterAll(async () => {
    await buses[0]?.deleteNamespace();
    await Promise.all(buses.map((bus) => bus.disconnect()));
  });

  it('Given identity and approval events on partitioned topics of a namespace, When the pack is asked, Then it folds them all and every link is a record of the log', async () => {
    const writer = new KafkaMessageBus({ clientId: uniqueName('cli-evidence-writer'), brokers: kafkaBrokers, registry, logger: silentLogger, namespace });
    buses.push(writer);
    await writer.connect();
    await writer.ensureTopics([
      { topic: TOPICS.identities, partitions: 3 },
      { topic: TOPICS.approvals, partitions: 3 },
    ]);
    await writer.publish(TOPICS.identities, [
      encode(
        IdentityUpserted,
        { identity: { kind: 'human', identityId: 'alice', displayName: 'Alice', status: 'active', attributes: {} } },
        '2026-02-01T08:00:00Z',
        'alice',
      ),
      encode(
        IdentityUpserted,
        { identity: { kind: 'ci_pipeline', identityId: 'nightly', displayName: 'Nightly', status: 'active', ownerId: 'alice', attributes: {} } },
        '2026-02-01T08:00:00Z',
        'nightly',
      ),
      encode(
        IdentityOffboarded,
        { identityId: 'alice', kind: 'human', effectiveAt: '2026-03-01T10:00:00Z', reason: 'leaver', ownedIdentityIds: ['nightly'] },
        '2026-03-01T10:00:00Z',
        'alice',
      ),
    ]);
    await writer.publish(TOPICS.approvals, [
      encode(
        ApprovalSelfApprovalBlocked,
        { taskId: 'req-1:manager', requestId: 'req-1', attemptedById: 'bob', relation: 'requester', attemptedAt: '2026-03-01T09:00:00Z' },
        '2026-03-01T09:00:00Z',
        'req-1',
      ),
    ]);
    const cli = openBus(kafkaSettings({ KAFKA_BROKERS: kafkaBrokers.join(','), KAFKA_TOPIC_NAMESPACE: namespace }), registry);
    buses.push(cli);
    await cli.connect();
    const io = bufferedOutput();
    const updates: [number, number][] = [];
    const progress: Progress = { update: (done, total) => void updates.push([done, total]), stop: () => undefined };

    const code = await evidenceCommand(
      cli,
      { from: '2026-03-01T00:00:00Z', to: '2026-03-02T00:00:00Z' },
      io,
      { now: () => new Date('2026-03-02T00:00:00Z'), writeFile: () => undefined, source: `kafka, namespace ${namespace}` },
      progress,
    );

    expect(code).toBe(0);
    const pack = JSON.parse(io.stdout()) as EvidencePack;
    expect(pack.log.events).toBe(4);
    expect(updates.at(-1)).toEqual([4, 4]);
    expect(pack.controls.find((control) => control.id === 'NHI1')).toMatchObject({ status: 'finding', count: 1 });
    expect(pack.controls.find((control) => control.id === 'AC-5')).toMatchObject({ status: 'satisfied', count: 1 });
    const links = pack.controls.flatMap((control) => control.lines.flatMap((line) => line.links));
    expect(links.length).toBeGreaterThan(0);
    const onLog = new Map<string, Envelope>();
    await cli.replay({
      topics: [TOPICS.identities, TOPICS.approvals],
      handler: async (event, { topic, partition, offset }) => void onLog.set(`${topic}/${partition}@${offset}`, event),
    });
    for (const link of links) {
      const event = onLog.get(`${link.topic}/${link.partition}@${link.offset}`);
      expect({ id: event?.id, type: event?.type }).toEqual({ id: link.id, type: link.type });
    }
  });
});
