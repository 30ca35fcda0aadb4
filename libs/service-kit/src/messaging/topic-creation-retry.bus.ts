import type {
  BusHealth,
  ConsumerOptions,
  EventPublisher,
  MessageBus,
  MessagingLogger,
  MessagingMetrics,
  ReplayOptions,
  RunningConsumer,
  TopicSpec,
} from '@grantline/messaging';

const ATTEMPTS = 6;
const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Retries `ensureTopics` when creation races. Services start together and each ensures the shared
 * dead-letter topic; Kafka 4 (KRaft) then briefly answers metadata for a topic just created by
 * another client with UNKNOWN_TOPIC_OR_PARTITION, which kafkajs' `createTopics({ waitForLeaders })`
 * does not tolerate. A second attempt finds the topic listed and returns. Delegates everything else.
 */
export class TopicCreationRetryBus implements MessageBus {
  constructor(
    private readonly inner: MessageBus,
    private readonly logger: MessagingLogger,
  ) {}

  get publisher(): EventPublisher {
    return this.inner.publisher;
  }

  async ensureTopics(topics: readonly TopicSpec[]): Promise<void> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        await this.inner.ensureTopics(topics);
        return;
      } catch (error) {
        if (attempt >= ATTEMPTS) throw error;
        const delayMs = 100 * 2 ** (attempt - 1);
        this.logger.warn('topic creation failed, retrying', {
          topics: topics.map((spec) => spec.topic),
          attempt,
          delayMs,
          error: error instanceof Error ? error.message : String(error),
        });
        await pause(delayMs);
      }
    }
  }

  connect(): Promise<void> {
    return this.inner.connect();
  }

  disconnect(): Promise<void> {
    return this.inner.disconnect();
  }

  consume(options: ConsumerOptions): Promise<RunningConsumer> {
    return this.inner.consume(options);
  }

  replay(options: ReplayOptions): Promise<number> {
    return this.inner.replay(options);
  }

  health(): Promise<BusHealth> {
    return this.inner.health();
  }

  metrics(): MessagingMetrics {
    return this.inner.metrics();
  }
}
