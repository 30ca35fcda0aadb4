import type { EventRegistry } from '@grantline/contracts';
import { eventually } from '@grantline/testing';
import { silentLogger } from '../logger';
import { busBehaviourSuite } from '../testing/bus-behaviour.suite';
import type { MakeBus } from '../testing/bus-behaviour.suite';
import { testRegistry } from '../testing/test-events';
import { InMemoryMessageBus } from './in-memory-bus';
import { InMemoryLog } from './in-memory-log';

/** Each spec on a log of its own that, like the Kafka producers, refuses topics nobody created. */
const inMemoryBus: MakeBus = async (name, { partitions, topic = `spec.${name}` }) => {
  const log = new InMemoryLog({ autoCreateTopics: false });
  const buses: InMemoryMessageBus[] = [];
  const open = (registry: EventRegistry): InMemoryMessageBus => {
    const bus = new InMemoryMessageBus({ registry, log, clientId: name, logger: silentLogger });
    buses.push(bus);
    return bus;
  };
  const events = testRegistry(topic, `${topic}.out`);
  const bus = open(events.registry);
  await bus.ensureTopics([
    { topic, partitions },
    { topic: `${topic}.out`, partitions },
    { topic: `${topic}.dlq`, partitions: 1 },
  ]);
  return {
    bus,
    topic,
    outTopic: `${topic}.out`,
    deadLetterTopic: `${topic}.dlq`,
    events,
    appendRaw: async (onTopic, records) =>
      void bus.appendRaw(
        onTopic,
        ...records.map(({ headers = {}, ...record }) => ({
          ...record,
          headers: Object.entries(headers).map(([key, value]) => ({ key, value: Buffer.from(value, 'utf8') })),
        })),
      ),
    committed: async (groupId, onTopic) => bus.committedOffsets(groupId, onTopic),
    sibling: open,
    eventually,
    dispose: async () => void (await Promise.all(buses.map((b) => b.disconnect()))),
  };
};

busBehaviourSuite('InMemoryMessageBus', inMemoryBus);
