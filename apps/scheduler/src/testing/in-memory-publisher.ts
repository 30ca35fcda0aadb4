import type { Envelope } from '@grantline/contracts';
import type { EventPublisher } from '@grantline/messaging';

/** Records what would have gone to the broker; `failNext` makes the next publishes reject like an unreachable broker. */
export class InMemoryPublisher implements EventPublisher {
  readonly published: { topic: string; event: Envelope }[] = [];
  private failures = 0;

  failNext(times = 1): void {
    this.failures = times;
  }

  async publish(topic: string, events: readonly Envelope[]): Promise<void> {
    if (this.failures > 0) {
      this.failures -= 1;
      throw new Error('broker unreachable (simulated)');
    }
    for (const event of events) this.published.push({ topic, event });
  }

  events(): Envelope[] {
    return this.published.map((entry) => entry.event);
  }
}
