import { MessagingDeadLetterRepublished, MessagingDeadLettered, isEvent } from '@grantline/contracts';
import type { DeadLetterRepublishedData, DeadLetteredData, Envelope, RecordReference } from '@grantline/contracts';

/** One dead letter as the CLI shows it: where it sits, who wrote it, what it says, and whether it was re-driven. */
export interface DeadLetterEntry {
  /** The dead-letter event's id: what `dlq show` and `dlq redrive` take. */
  readonly id: string;
  /** The dead-letter topic it was read from (logical name). */
  readonly deadLetterTopic: string;
  /** The service that refused the record (`grantline/<client>`). */
  readonly writtenBy: string;
  readonly data: DeadLetteredData;
  /** Set once its origin was re-driven: then `list` hides it and `redrive` leaves it alone. */
  readonly republished?: { readonly at: string; readonly by: string; readonly eventId: string };
}

/** Everything on the dead-letter topics, folded. */
export interface DeadLetterLog {
  readonly entries: readonly DeadLetterEntry[];
  /** Records on the dead-letter topics this CLI could not decode (a newer release wrote them, or they are broken). */
  readonly unreadable: number;
}

/** A record's place on the log, as one string: dead letters of one origin (one per group) share it. */
export const originKey = (origin: Pick<RecordReference, 'topic' | 'partition' | 'offset'>): string => `${origin.topic}/${origin.partition}@${origin.offset}`;

/** What was read from a dead-letter topic: the decoded (upcast) event and the topic it came from. */
export interface DeadLetterTopicRecord {
  readonly topic: string;
  readonly event: Envelope;
}

/**
 * Folds the dead-letter topics: each dead letter once (a redelivered consumer writes the same id again), each marked
 * re-driven when a `dead-letter-republished` record settled its origin — whichever group refused it: the record was
 * published again for every group. Other event types on those topics are ignored.
 */
export function foldDeadLetters(records: readonly DeadLetterTopicRecord[], unreadable = 0): DeadLetterLog {
  const republished = new Map<string, { at: string; by: string; eventId: string }>();
  for (const { event } of records) {
    if (!isEvent(event, MessagingDeadLetterRepublished)) continue;
    const data: DeadLetterRepublishedData = event.data;
    const key = originKey(data.origin);
    if (!republished.has(key)) republished.set(key, { at: data.republishedAt, by: event.actor.id, eventId: data.event.id });
  }
  const seen = new Set<string>();
  const entries: DeadLetterEntry[] = [];
  for (const { topic, event } of records) {
    if (!isEvent(event, MessagingDeadLettered) || seen.has(event.id)) continue;
    seen.add(event.id);
    const settled = republished.get(originKey(event.data.origin));
    entries.push({
      id: event.id,
      deadLetterTopic: topic,
      writtenBy: event.source,
      data: event.data,
      ...(settled === undefined ? {} : { republished: settled }),
    });
  }
  return { entries, unreadable };
}

export interface ListFilter {
  /** Only dead letters of records from this (logical) topic. */
  readonly originTopic?: string;
  /** Only dead letters written at or after this instant. */
  readonly since?: Date;
  /** Re-driven ones too (hidden by default). */
  readonly includeRepublished?: boolean;
}

/** The dead letters to list, oldest first. */
export function selectDeadLetters(log: DeadLetterLog, filter: ListFilter = {}): DeadLetterEntry[] {
  const since = filter.since?.getTime();
  return log.entries
    .filter((entry) => filter.includeRepublished === true || entry.republished === undefined)
    .filter((entry) => filter.originTopic === undefined || entry.data.origin.topic === filter.originTopic)
    .filter((entry) => since === undefined || Date.parse(entry.data.failedAt) >= since)
    .sort((a, b) => Date.parse(a.data.failedAt) - Date.parse(b.data.failedAt));
}
