import { Inject, Injectable, Logger } from '@nestjs/common';
import { topicOf } from '@grantline/contracts';
import { EventFactory } from '@grantline/decider';
import type { Actor, Envelope, EventDefinition, EventRegistry } from '@grantline/contracts';
import type { EventPublisher } from '@grantline/messaging';
import { EVENT_PUBLISHER, EVENT_REGISTRY } from '@grantline/messaging-nest';
import { INTAKE_CONFIG } from '../config/intake-config';
import type { IntakeConfig } from '../config/intake-config';
import { ProblemException } from '@grantline/http-edge';
import { INTAKE_PROBLEMS } from '../http/intake-problems';

export const INTAKE_SOURCE = 'grantline/intake';

export interface EventToWrite<TData> {
  readonly def: EventDefinition<string, TData>;
  readonly data: TData;
  readonly id: string;
  /** The aggregate: the Kafka key and CloudEvents subject (a request id, an identity id). */
  readonly subject: string;
  readonly correlationId: string;
  readonly causationId?: string;
  readonly actor: Actor;
  readonly time: string;
}

/** Encodes (validating against the contract) and publishes, answering 503 when Kafka does not acknowledge in time. */
@Injectable()
export class IntakePublisher {
  private readonly logger = new Logger('intake-publisher');
  private readonly events: EventFactory;

  constructor(
    @Inject(EVENT_PUBLISHER) private readonly publisher: EventPublisher,
    @Inject(EVENT_REGISTRY) private readonly registry: EventRegistry,
    @Inject(INTAKE_CONFIG) private readonly config: IntakeConfig,
  ) {
    // Intake's ids come from the Idempotency-Key (or the ITSM ticket), never from idParts; the actor is always the caller.
    this.events = new EventFactory(registry, { source: INTAKE_SOURCE, actor: { kind: 'service', id: 'intake' } }, () => {
      throw new Error('intake events carry the id their caller derived');
    });
  }

  encode<TData>(event: EventToWrite<TData>): Envelope<TData> {
    return this.events.derive(event.def, event.data, {
      id: event.id,
      time: event.time,
      subject: event.subject,
      correlationId: event.correlationId,
      ...(event.causationId === undefined ? {} : { cause: { id: event.causationId } }),
      actor: event.actor,
    });
  }

  /**
   * Resolves once Kafka acknowledged (acks=all). On failure or timeout throws a 503 problem: the caller may retry
   * with the same Idempotency-Key, which yields the same event id, so a late write is a duplicate, never a second fact.
   */
  async publish<TData>(event: EventToWrite<TData>): Promise<Envelope<TData>> {
    const envelope = this.encode(event);
    const topic = topicOf(event.def, event.data);
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.publisher.publish(topic, [envelope]),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no acknowledgement within ${this.config.publishTimeoutMs} ms`)), this.config.publishTimeoutMs);
        }),
      ]);
    } catch (error) {
      this.logger.warn(`publish to ${topic} failed: ${error instanceof Error ? error.message : String(error)}`);
      throw ProblemException.of(
        INTAKE_PROBLEMS.eventLogUnavailable,
        'The event log did not acknowledge the write; nothing was accepted. Retry later with the same Idempotency-Key.',
      );
    } finally {
      clearTimeout(timer);
    }
    return envelope;
  }
}
