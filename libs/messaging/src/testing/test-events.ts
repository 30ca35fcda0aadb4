import { z } from 'zod';
import { EventRegistry, defineEvent, registry as catalogue } from '@grantline/contracts';
import type { Envelope, TopicName } from '@grantline/contracts';
import { DEAD_LETTERED_EVENT } from '../dead-letter';

/**
 * Events private to the messaging specs: each spec owns its topics, so the definitions are made
 * per spec with the spec's topic names, next to the real dead-letter definition.
 */
export const PingSchema = z.strictObject({ key: z.string().min(1), seq: z.number().int().nonnegative(), note: z.string().optional() });
export type Ping = z.infer<typeof PingSchema>;

export function testRegistry(inputTopic: string, outputTopic: string) {
  const pinged = defineEvent('iga.test.pinged', 1, inputTopic as TopicName, PingSchema);
  const ponged = defineEvent('iga.test.ponged', 1, outputTopic as TopicName, PingSchema);
  const registry = new EventRegistry().register(pinged).register(ponged).register(catalogue.latestOf(DEAD_LETTERED_EVENT));
  let counter = 0;
  const ping = (data: Ping, id = `ping-${data.key}-${data.seq}-${counter++}`): Envelope =>
    registry.encode(pinged, data, {
      id,
      source: 'grantline/messaging-spec',
      time: new Date(0).toISOString(),
      subject: data.key,
      correlationid: data.key,
      actor: { kind: 'system', id: 'messaging-spec' },
    });
  return { registry, pinged, ponged, ping };
}
