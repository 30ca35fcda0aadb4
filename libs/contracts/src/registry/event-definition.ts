import type { z } from 'zod';
import { ContractViolationError } from '../errors/contract-violation.error';
import { EVENT_NAME_PATTERN } from '../envelope/envelope.schema';
import type { Envelope } from '../envelope/envelope.schema';
import { CONNECTOR_ID_PLACEHOLDER, connectorCommandsTopic, connectorIdOfTopic, connectorResultsTopic } from '../topics/topic.catalogue';
import type { TopicName } from '../topics/topic.catalogue';

export interface EventDefinition<TType extends string = string, TData = unknown> {
  /** `iga.request.submitted` */
  readonly name: string;
  /** 1, 2, ... Released versions are frozen; a change is a new version plus an upcaster. */
  readonly version: number;
  /** `iga.request.submitted.v1` */
  readonly type: TType;
  /** The one topic this event is written to (single writer). Connector events use the `{connectorId}` placeholder. */
  readonly topic: TopicName;
  readonly schema: z.ZodType<TData>;
}

export type DataOf<T> = T extends EventDefinition<string, infer TData> ? TData : never;
export type TypeOf<T> = T extends EventDefinition<infer TType, unknown> ? TType : never;
/** The envelope type of a definition: `EnvelopeOf<typeof RequestSubmittedV2>`. */
export type EnvelopeOf<T> = Envelope<DataOf<T>, TypeOf<T>>;

export function defineEvent<const TName extends string, const TVersion extends number, TData>(
  name: TName,
  version: TVersion,
  topic: TopicName,
  schema: z.ZodType<TData>,
): EventDefinition<`${TName}.v${TVersion}`, TData> {
  const problems: { path: string; message: string }[] = [];
  if (!EVENT_NAME_PATTERN.test(name)) problems.push({ path: 'name', message: `expected ${String(EVENT_NAME_PATTERN)}` });
  if (!Number.isSafeInteger(version) || version < 1) problems.push({ path: 'version', message: 'expected an integer >= 1' });
  if (problems.length > 0) throw new ContractViolationError(problems, `event definition ${name}`);
  return Object.freeze({ name, version, type: `${name}.v${version}` as const, topic, schema });
}

/** Narrows a decoded envelope to one definition's type and data. */
export function isEvent<T extends EventDefinition>(envelope: Envelope, def: T): envelope is Envelope<DataOf<T>, TypeOf<T>> {
  return envelope.type === def.type;
}

/**
 * The concrete topic an event goes to: the definition's topic, with the connector id taken from the data for
 * connector commands and results (`iga.connectors.{connectorId}.commands.v1` → `iga.connectors.pg-main.commands.v1`).
 */
export function topicOf<TData>(def: EventDefinition<string, TData>, data: TData): TopicName {
  const connectorId = connectorIdOfTopic(def.topic);
  if (connectorId !== CONNECTOR_ID_PLACEHOLDER) return def.topic;
  const fromData: unknown = data !== null && typeof data === 'object' ? (data as Record<string, unknown>)['connectorId'] : undefined;
  if (typeof fromData !== 'string') {
    throw new ContractViolationError([{ path: 'data.connectorId', message: 'Required to route a connector event' }], def.type);
  }
  return def.topic.endsWith('.commands.v1') ? connectorCommandsTopic(fromData) : connectorResultsTopic(fromData);
}
