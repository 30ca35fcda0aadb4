import { Kafka, logLevel } from 'kafkajs';
import { toAclAdminError } from '../kafka/kafka-acls';
import type { KafkaSaslCredentials } from '../kafka/kafka-sasl';

export type ProduceProbeOutcome = { readonly ok: true } | { readonly ok: false; readonly kafkaErrorName: string; readonly message: string };

/**
 * Tries to write one record to a topic as a given principal and says what the broker answered: the proof, for specs
 * and scenarios outside this lib (which may not import kafkajs), that a principal may or may not produce there. A fresh
 * client each time, so no cached metadata or connection outlives a change of the principal's ACLs; no retries, so a
 * refusal is reported at once.
 */
export async function probeProduce(options: {
  readonly brokers: readonly string[];
  readonly sasl?: KafkaSaslCredentials;
  readonly topic: string;
  readonly value?: string;
}): Promise<ProduceProbeOutcome> {
  const producer = new Kafka({
    clientId: 'grantline-produce-probe',
    brokers: [...options.brokers],
    connectionTimeout: 5_000,
    retry: { retries: 0 },
    logLevel: logLevel.NOTHING,
    ...(options.sasl === undefined ? {} : { sasl: { mechanism: 'scram-sha-512' as const, username: options.sasl.username, password: options.sasl.password } }),
  }).producer({ allowAutoTopicCreation: false, retry: { retries: 0 } });
  try {
    await producer.connect();
    await producer.send({ topic: options.topic, acks: -1, messages: [{ value: options.value ?? 'probe' }] });
    return { ok: true };
  } catch (error) {
    const failure = toAclAdminError(error, `producing to ${options.topic}`);
    return { ok: false, kafkaErrorName: failure.kafkaErrorName, message: failure.message };
  } finally {
    await producer.disconnect().catch(() => undefined);
  }
}
