import type { IdempotencyKey } from './connector.types';

export interface RecordedOutcome {
  /** Hash of the command that produced the outcome; a different command under the same key is a conflict. */
  commandHash: string;
  result: unknown;
  recordedAt: Date;
}

/**
 * Remembers what a key already did so a redelivered command is answered without touching
 * the target. Only successes are recorded: a failed key must stay retryable once an
 * operator has fixed the cause.
 */
export interface IdempotencyStore {
  get(key: IdempotencyKey): Promise<RecordedOutcome | undefined>;
  record(key: IdempotencyKey, outcome: RecordedOutcome): Promise<void>;
}

export class InMemoryIdempotencyStore implements IdempotencyStore {
  private readonly outcomes = new Map<IdempotencyKey, RecordedOutcome>();

  async get(key: IdempotencyKey): Promise<RecordedOutcome | undefined> {
    return this.outcomes.get(key);
  }

  async record(key: IdempotencyKey, outcome: RecordedOutcome): Promise<void> {
    this.outcomes.set(key, outcome);
  }

  get size(): number {
    return this.outcomes.size;
  }
}
