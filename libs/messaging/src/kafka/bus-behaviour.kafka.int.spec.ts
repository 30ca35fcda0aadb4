import type { EventRegistry } from '@grantline/contracts';
import { eventually, infraEndpoints, uniqueName } from '@grantline/testing';
import { silentLogger } from '../logger';
import { busBehaviourSuite } from '../testing/bus-behaviour.suite';
import type { MakeBus } from '../testing/bus-behaviour.suite';
import { committedOffsets, withRawProducer } from '../testing/spec-bus';
import { testRegistry } from '../testing/test-events';
import { KafkaMessageBus } from './kafka-bus';

const { kafkaBrokers } = infraEndpoints();

/**
 * Each spec in a namespace of its own (topics and groups on the cluster carry it, so a catalogue topic such as the
 * ITSM inbound one is the spec's alone), on unique topics, deleted once the spec is done.
 */
const kafkaBus: MakeBus = async (name, { partitions, topic = uniqueName(`spec.${name}`) }) => {
  const namespace = uniqueName('bb').replace(/_/g, '-');
  const buses: KafkaMessageBus[] = [];
  const open = (registry: EventRegistry): KafkaMessageBus => {
    const bus = new KafkaMessageBus({ clientId: uniqueName(name), brokers: kafkaBrokers, registry, logger: silentLogger, namespace });
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
    appendRaw: async (onTopic, records) => {
      await withRawProducer(kafkaBrokers, (producer) =>
        producer.send({ topic: bus.namespace.topic(onTopic), messages: records.map((record) => ({ ...record })) }),
      );
    },
    committed: async (groupId, onTopic) => {
      const offsets = await committedOffsets(kafkaBrokers, bus.namespace.group(groupId), bus.namespace.topic(onTopic));
      return new Map([...offsets].filter(([, offset]) => offset !== '-1'));
    },
    sibling: open,
    eventually,
    dispose: async () => {
      await Promise.all(buses.map((b) => b.disconnect()));
      await bus.deleteNamespace();
      await bus.disconnect();
    },
  };
};

busBehaviourSuite('KafkaMessageBus (real broker)', kafkaBus);
