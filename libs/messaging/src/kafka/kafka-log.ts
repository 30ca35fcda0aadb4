import { logLevel } from 'kafkajs';
import type { LogEntry, logCreator } from 'kafkajs';
import type { MessagingLogger } from '../logger';

/**
 * Broker answers kafkajs logs as errors although they are expected while topics are created, leaders move and
 * groups rebalance, and are retried (by kafkajs or by this bus). Logged as warnings so an operator's error alerts
 * mean something.
 */
const TRANSIENT_BROKER_ANSWERS = [
  'does not host this topic-partition',
  'not the leader for that topic-partition',
  'Topic creation errors',
  'The group is rebalancing',
  'another concurrent operation on the same transaction',
  'coordinator is loading',
];

export function isTransientBrokerAnswer(log: { readonly message?: unknown; readonly error?: unknown }): boolean {
  const text = `${String(log.message ?? '')} ${String(log.error ?? '')}`;
  return TRANSIENT_BROKER_ANSWERS.some((fragment) => text.includes(fragment));
}

/** kafkajs' own log lines, through the service's logger. */
export function kafkaLogCreator(logger: MessagingLogger): logCreator {
  return () =>
    ({ namespace, level, log }: LogEntry) => {
      const { message, ...extra } = log;
      const fields = { component: 'kafkajs', namespace, ...extra };
      if (level === logLevel.ERROR && isTransientBrokerAnswer(log)) logger.warn(message, fields);
      else if (level === logLevel.ERROR) logger.error(message, fields);
      else if (level === logLevel.WARN) logger.warn(message, fields);
      else logger.debug(message, fields);
    };
}
