import { z } from 'zod';
import {
  CONNECTOR_ID_PLACEHOLDER,
  CONNECTOR_TOPIC_OWNERS,
  CONNECTOR_TOPIC_READERS,
  CloudEventSchema,
  TOPICS,
  TOPIC_OWNERS,
  TOPIC_READERS,
  connectorCommandsTopic,
  connectorResultsTopic,
  registry as catalogueRegistry,
} from '@grantline/contracts';
import type { EventDefinition, EventRegistry, TopicKey } from '@grantline/contracts';

/** The AsyncAPI version the document is written in. */
export const ASYNCAPI_VERSION = '3.0.0';
/** Event payloads are JSON Schema draft-07 (what `z.toJSONSchema` writes for that target), declared per message. */
export const PAYLOAD_SCHEMA_FORMAT = 'application/schema+json;version=draft-07';

type JsonObject = { [key: string]: unknown };

export interface AsyncApiChannel {
  readonly address: string;
  readonly title: string;
  readonly description: string;
  readonly parameters?: Readonly<Record<string, { readonly description: string }>>;
  readonly messages: Readonly<Record<string, { readonly $ref: string }>>;
  /** The single writer of the topic (`TOPIC_OWNERS`; `connector:{connectorId}` for a connector's results). */
  readonly 'x-grantline-owner': string;
  /** Who reads it besides its owner (`TOPIC_READERS`): the broker's ACLs are generated from the same tables. */
  readonly 'x-grantline-readers': readonly string[];
}

export interface AsyncApiMessage {
  readonly name: string;
  readonly title: string;
  readonly summary: string;
  readonly contentType: string;
  readonly payload: { readonly schemaFormat: string; readonly schema: JsonObject };
  readonly bindings: { readonly kafka: { readonly key: JsonObject; readonly bindingVersion: string } };
  /** The newer version a consumer receives this one as (the registry upcasts on read); absent on the latest. */
  readonly 'x-grantline-upcast-to'?: string;
  readonly 'x-grantline-topic': string;
}

export interface AsyncApiDocument {
  readonly asyncapi: typeof ASYNCAPI_VERSION;
  readonly info: { readonly title: string; readonly version: string; readonly description: string };
  readonly defaultContentType: string;
  readonly channels: Readonly<Record<string, AsyncApiChannel>>;
  readonly operations: Readonly<Record<string, JsonObject>>;
  readonly components: { readonly messages: Readonly<Record<string, AsyncApiMessage>> };
}

export interface AsyncApiOptions {
  /** Defaults to the full catalogue (`registry` of `@grantline/contracts`). */
  readonly registry?: EventRegistry;
  /** `info.version`; defaults to `1.0.0`. */
  readonly version?: string;
}

/** One topic of the catalogue, as a channel. */
interface TopicChannel {
  readonly id: string;
  readonly address: string;
  readonly owner: string;
  readonly readers: readonly string[];
  readonly connector: boolean;
}

const CONNECTOR_COMMANDS = connectorCommandsTopic(CONNECTOR_ID_PLACEHOLDER);
const CONNECTOR_RESULTS = connectorResultsTopic(CONNECTOR_ID_PLACEHOLDER);

function topicChannels(): TopicChannel[] {
  const fixed = (Object.keys(TOPICS) as TopicKey[]).map((key) => ({
    id: key,
    address: TOPICS[key],
    owner: TOPIC_OWNERS[key],
    readers: TOPIC_READERS[key],
    connector: false,
  }));
  return [
    ...fixed,
    {
      id: 'connectorCommands',
      address: CONNECTOR_COMMANDS,
      owner: CONNECTOR_TOPIC_OWNERS.commands,
      readers: CONNECTOR_TOPIC_READERS.commands,
      connector: true,
    },
    {
      id: 'connectorResults',
      address: CONNECTOR_RESULTS,
      owner: `${CONNECTOR_TOPIC_OWNERS.results}:${CONNECTOR_ID_PLACEHOLDER}`,
      readers: CONNECTOR_TOPIC_READERS.results,
      connector: true,
    },
  ];
}

/**
 * JSON Schema (draft-07) of a zod schema, as its input: what `registry.decode` accepts (a few fields are normalised by
 * transforms after that, which JSON Schema cannot say). Throws on anything else it cannot say, rather than documenting `{}`.
 */
function jsonSchemaOf(schema: z.ZodType): JsonObject {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { target: 'draft-7', io: 'input' }) as JsonObject;
  return rest;
}

/** The event as it is on the wire for one event type: CloudEvents attributes (extensions as strings), `type` fixed, `data` the event's schema. */
function payloadOf(definition: EventDefinition): JsonObject {
  return jsonSchemaOf(CloudEventSchema.extend({ type: z.literal(definition.type), data: definition.schema as z.ZodType }));
}

function messageOf(definition: EventDefinition, registry: EventRegistry): AsyncApiMessage {
  const latest = registry.latestOf(definition.name);
  return {
    name: definition.type,
    title: `${definition.name} v${definition.version}`,
    summary: `${definition.name}, version ${definition.version}, on ${definition.topic}`,
    // CloudEvents structured content mode (ADR 0027): the record's content-type header says so.
    contentType: 'application/cloudevents+json; charset=utf-8',
    payload: { schemaFormat: PAYLOAD_SCHEMA_FORMAT, schema: payloadOf(definition) },
    // Records are keyed by the aggregate they concern (the envelope's subject): one partition serialises it.
    bindings: { kafka: { key: { type: 'string', description: 'the envelope subject (the aggregate id)' }, bindingVersion: '0.5.0' } },
    ...(latest.type === definition.type ? {} : { 'x-grantline-upcast-to': latest.type }),
    'x-grantline-topic': definition.topic,
  };
}

/**
 * The AsyncAPI 3 description of Grantline's event log, generated from the contracts: one channel per topic of the
 * catalogue (connector topics as one parameterised channel each), one message per event type and version with the
 * envelope's JSON Schema (`data` = the event's schema), the topic's single writer and readers, and one `send`
 * operation per channel for its owner. A definition whose topic is not in the catalogue fails the build.
 */
export function buildAsyncApiDocument(options: AsyncApiOptions = {}): AsyncApiDocument {
  const registry = options.registry ?? catalogueRegistry;
  const channels = topicChannels();
  const byAddress = new Map(channels.map((channel) => [channel.address, channel]));
  const messages: Record<string, AsyncApiMessage> = {};
  const messageIdsByChannel = new Map<string, string[]>(channels.map((channel) => [channel.id, []]));
  for (const definition of registry.definitions()) {
    const channel = byAddress.get(definition.topic);
    if (channel === undefined) throw new Error(`${definition.type}: topic ${definition.topic} is not in the topic catalogue`);
    messages[definition.type] = messageOf(definition, registry);
    messageIdsByChannel.get(channel.id)?.push(definition.type);
  }
  const channelObjects: Record<string, AsyncApiChannel> = {};
  const operations: Record<string, JsonObject> = {};
  for (const channel of channels) {
    const ids = messageIdsByChannel.get(channel.id) ?? [];
    channelObjects[channel.id] = {
      address: channel.address,
      title: channel.address,
      description: `Written by ${channel.owner} alone (single writer); read by ${channel.readers.length > 0 ? channel.readers.join(', ') : 'its owner only'}.`,
      ...(channel.connector ? { parameters: { connectorId: { description: 'the connector id (lowercase, no dots), e.g. postgres' } } } : {}),
      messages: Object.fromEntries(ids.map((id) => [id, { $ref: `#/components/messages/${id}` }])),
      'x-grantline-owner': channel.owner,
      'x-grantline-readers': channel.readers,
    };
    operations[`publish-${channel.id}`] = {
      action: 'send',
      channel: { $ref: `#/channels/${channel.id}` },
      title: `${channel.owner} publishes to ${channel.address}`,
      messages: ids.map((id) => ({ $ref: `#/channels/${channel.id}/messages/${id}` })),
      'x-grantline-owner': channel.owner,
    };
  }
  return {
    asyncapi: ASYNCAPI_VERSION,
    info: {
      title: 'Grantline event log',
      version: options.version ?? '1.0.0',
      description:
        'Every lifecycle change is an immutable CloudEvents 1.0 envelope on Kafka, keyed by its subject; each topic has a single writer. ' +
        'Generated from @grantline/contracts (topic catalogue and event registry).',
    },
    defaultContentType: 'application/json',
    channels: channelObjects,
    operations,
    components: { messages },
  };
}

/**
 * The registry's event types the document does not describe: no message, or a message its topic's channel does not
 * list (what a stale or hand-edited document misses).
 */
export function missingEventTypes(document: Pick<AsyncApiDocument, 'components' | 'channels'>, registry: EventRegistry = catalogueRegistry): string[] {
  const channels = Object.values(document.channels);
  return registry
    .definitions()
    .filter((definition) => {
      const listed = channels.find((channel) => channel.address === definition.topic)?.messages[definition.type];
      return document.components.messages[definition.type] === undefined || listed === undefined;
    })
    .map((definition) => definition.type);
}
