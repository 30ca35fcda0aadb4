import type { Actor, Envelope, EnvelopeMeta, EventDefinition, EventRegistry } from '@grantline/contracts';

/** Derives an event id from its parts (deterministicEventId in the runtime): the same parts give the same id. */
export type EventIdOf = (...parts: string[]) => string;

/** Who produces a service's events: the CloudEvents `source` and the acting service. */
export interface Producer {
  readonly source: string;
  readonly actor: Actor;
}

export interface Derivation {
  /**
   * What fixes the id: a redelivered or replayed cause must derive byte-identical events, so the parts name the
   * cause and what distinguishes this event among its siblings (type, grant, stage ...).
   */
  readonly idParts?: readonly string[];
  /** An id fixed elsewhere (an HTTP intent's id derives from its Idempotency-Key), instead of `idParts`. */
  readonly id?: string;
  /** The event that caused this one: its id becomes the causation id; its time the event time unless `time` is given. */
  readonly cause?: Pick<Envelope, 'id'> & Partial<Pick<Envelope, 'time' | 'correlationid'>>;
  /** Event time, when it is not the cause's (a timer fires at its due time, an HTTP intent at the clock's now). */
  readonly time?: string;
  /** The aggregate the event is about: the Kafka key, so everything about one subject stays in order. */
  readonly subject: string;
  /** Defaults to the cause's correlation id, else the subject. */
  readonly correlationId?: string;
  /** Defaults to the producer: a person deciding through the service (an approver) is the actor of their decision. */
  readonly actor?: Actor;
}

/**
 * The one place where a service's events get their metadata: deterministic id, source, event time (never
 * wall-clock time inside a decision, so replay decides exactly as the first time did), subject, correlation,
 * causation and actor. Every event is encoded through the registry, so it is validated against its contract
 * before it can be published.
 */
export class EventFactory {
  constructor(
    private readonly registry: EventRegistry,
    private readonly producer: Producer,
    private readonly eventId: EventIdOf,
  ) {}

  metadata(type: string, derivation: Derivation): EnvelopeMeta {
    const time = derivation.time ?? derivation.cause?.time;
    if (time === undefined) throw new Error(`${type}: an event needs its time, from its cause or given`);
    const correlationId = derivation.correlationId ?? derivation.cause?.correlationid ?? derivation.subject;
    if ((derivation.id === undefined) === (derivation.idParts === undefined)) throw new Error(`${type}: an event needs exactly one of id and idParts`);
    return {
      id: derivation.id ?? this.eventId(...(derivation.idParts ?? [])),
      source: this.producer.source,
      time,
      subject: derivation.subject,
      correlationid: correlationId,
      ...(derivation.cause !== undefined ? { causationid: derivation.cause.id } : {}),
      actor: derivation.actor ?? this.producer.actor,
    };
  }

  /** The envelope of `data` as `definition`'s event, validated. */
  derive<TType extends string, TData>(definition: EventDefinition<TType, TData>, data: TData, derivation: Derivation): Envelope<TData, TType> {
    return this.registry.encode(definition, data, this.metadata(definition.type, derivation));
  }
}
