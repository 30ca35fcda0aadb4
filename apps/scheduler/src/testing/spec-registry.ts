import { EventRegistry, TimerAccessDenied, TimerFired, defineEvent, registry as catalogue } from '@grantline/contracts';
import type { TopicName } from '@grantline/contracts';
import { DEAD_LETTERED_EVENT } from '@grantline/messaging';
import { SCHEDULER_INPUT_TYPES } from '../domain/scheduler.evolve';

/**
 * The scheduler's event definitions with every topic renamed under `prefix`, so an integration spec runs on its
 * own topics and the production ones stay untouched. Same types and schemas: only where they travel changes.
 */
export function schedulerRegistryOn(prefix: string) {
  const topicFor = (topic: string): TopicName => `${prefix}.${topic}` as TopicName;
  const events = new EventRegistry();
  // The refusal record too: the service writes it on its schedule topic, which here is the spec's own.
  for (const type of [...new Set<string>([...SCHEDULER_INPUT_TYPES, TimerFired.type, TimerAccessDenied.type])]) {
    const def = catalogue.definitionOf(type);
    events.register(defineEvent(def.name, def.version, topicFor(def.topic), def.schema));
  }
  events.register(catalogue.latestOf(DEAD_LETTERED_EVENT));
  const topicOf = (type: string): string => events.definitionOf(type).topic;
  return {
    registry: events,
    /** The scheduler's refusal event, bound to the spec's schedule topic (for ApiAuthModule's deniedEvent). */
    accessDenied: events.definitionOf(TimerAccessDenied.type) as typeof TimerAccessDenied,
    topics: {
      grants: topicOf('iga.grant.created.v1'),
      approvals: topicOf('iga.approval.task-opened.v1'),
      schedule: topicOf(TimerFired.type),
      /** Ownership transfer cases arm and disarm their deadline from here. */
      identities: topicOf('iga.identity.ownership-transfer-opened.v1'),
    },
  };
}
