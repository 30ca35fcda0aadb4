import { KafkaEventTransport } from '@grantline/messaging-nest';
import type { KafkaEventTransportOptions } from '@grantline/messaging-nest';

/**
 * Creates the topics a service consumes (when missing) before its consumer subscribes. kafkajs
 * consumers here run with topic auto-creation off, so a service that starts before the owner of a
 * topic it reads would otherwise fail to subscribe; services are started together by `npm start`
 * and by orchestrators. Creation is idempotent and uses the same defaults as the owner's.
 */
export class TopicEnsuringKafkaEventTransport extends KafkaEventTransport {
  constructor(private readonly transportOptions: KafkaEventTransportOptions) {
    super(transportOptions);
  }

  override listen(callback: (error?: unknown) => void): void {
    let topics: string[];
    try {
      topics = this.subscribedTopics();
    } catch (error) {
      callback(error);
      return;
    }
    const ensured = topics.length > 0 ? this.transportOptions.bus.ensureTopics(topics.map((topic) => ({ topic }))) : Promise.resolve();
    ensured.then(
      () => super.listen(callback),
      (error: unknown) => callback(error),
    );
  }
}
