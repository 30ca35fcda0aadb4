/**
 * A consumer in its own OS process, so a spec can SIGKILL it mid-batch and start another.
 * Its "durable work" is an append to a file per handled message.
 */
import { appendFileSync } from 'node:fs';
import { KafkaMessageBus } from '../kafka/kafka-bus';
import { silentLogger } from '../logger';
import { testRegistry } from './test-events';
import type { Ping } from './test-events';

async function main(): Promise<void> {
  const env = (name: string): string => {
    const value = process.env[name];
    if (!value) throw new Error(`${name} is required`);
    return value;
  };
  const topic = env('SPEC_TOPIC');
  const { registry } = testRegistry(topic, `${topic}.out`);
  const bus = new KafkaMessageBus({ clientId: 'kill-spec', brokers: env('KAFKA_BROKERS').split(','), registry, logger: silentLogger });
  const out = env('SPEC_OUT');
  // With SPEC_HANG_AFTER=n the process stops making progress after n messages, so a spec can kill it mid-way
  // however fast the handling is (a race against a polling spec otherwise, lost on a loaded machine).
  const hangAfter = Number(process.env['SPEC_HANG_AFTER'] ?? 'Infinity');
  let handled = 0;
  await bus.consume({
    groupId: env('SPEC_GROUP'),
    topics: [topic],
    handler: async (event) => {
      if (handled >= hangAfter) await new Promise<never>(() => undefined);
      const data = event.data as Ping;
      appendFileSync(out, `${data.key}:${data.seq}\n`);
      handled += 1;
    },
  });
  process.stdout.write('consuming\n');
}

main().catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`);
  process.exit(1);
});
