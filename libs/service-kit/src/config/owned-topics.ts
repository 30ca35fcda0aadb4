import { TOPIC_OWNERS, TOPICS } from '@grantline/contracts';
import type { TopicKey } from '@grantline/contracts';

/**
 * The catalogue topics a service is the single writer of, read from the contracts' owner table so
 * the service creating a topic and the one allowed to write it cannot drift apart.
 */
export function topicsOwnedBy(serviceName: string): string[] {
  return (Object.keys(TOPIC_OWNERS) as TopicKey[]).filter((key) => TOPIC_OWNERS[key] === serviceName).map((key) => TOPICS[key]);
}
