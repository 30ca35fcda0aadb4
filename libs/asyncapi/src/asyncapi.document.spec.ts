import { Parser } from '@asyncapi/parser';
import { z } from 'zod';
import { CONNECTOR_ID_PLACEHOLDER, TOPICS, TOPIC_OWNERS, createCatalogueRegistry, defineEvent, registry } from '@grantline/contracts';
import type { TopicKey } from '@grantline/contracts';
import { buildAsyncApiDocument, missingEventTypes } from './asyncapi.document';
import type { AsyncApiDocument } from './asyncapi.document';

// Spectral's severities: 0 error, 1 warning, 2 information, 3 hint.
const ERROR = 0;
const WARNING = 1;

describe('the AsyncAPI document of the event log', () => {
  const document = buildAsyncApiDocument();

  it('is a valid AsyncAPI 3 document: no error and no warning from @asyncapi/parser', async () => {
    const { document: parsed, diagnostics } = await new Parser().parse(JSON.stringify(document));
    const problems = diagnostics.filter((diagnostic) => diagnostic.severity === ERROR || diagnostic.severity === WARNING);
    expect(problems.map((problem) => `${problem.code}: ${problem.message} at ${problem.path.join('.')}`)).toEqual([]);
    expect(parsed).toBeDefined();
    // The parser read every message and channel we wrote.
    expect(parsed?.allMessages().length).toBe(registry.definitions().length);
    expect(parsed?.channels().length).toBe(Object.keys(TOPICS).length + 2);
  }, 60_000);

  it('describes every event type and version of the registry, on its topic channel', () => {
    expect(missingEventTypes(document)).toEqual([]);
    for (const definition of registry.definitions()) {
      const message = document.components.messages[definition.type];
      expect(message?.name).toBe(definition.type);
      expect(message?.['x-grantline-topic']).toBe(definition.topic);
    }
  });

  it('fails the check when the registry has an event type the document lacks', () => {
    const withoutOne: AsyncApiDocument = {
      ...document,
      components: { messages: Object.fromEntries(Object.entries(document.components.messages).filter(([type]) => type !== 'iga.grant.revoked.v1')) },
    };
    expect(missingEventTypes(withoutOne)).toEqual(['iga.grant.revoked.v1']);
    // ...and when the message exists but its topic's channel does not list it.
    const unlisted: AsyncApiDocument = {
      ...document,
      channels: { ...document.channels, grants: { ...document.channels['grants']!, messages: {} } },
    };
    expect(missingEventTypes(unlisted)).toContain('iga.grant.revoked.v1');
    // A registry with one more event than the document was generated from.
    const larger = createCatalogueRegistry().register(defineEvent('iga.grant.noted', 1, TOPICS.grants, z.object({ grantId: z.string() })));
    expect(missingEventTypes(document, larger)).toEqual(['iga.grant.noted.v1']);
    expect(missingEventTypes(buildAsyncApiDocument({ registry: larger }), larger)).toEqual([]);
  });

  it('has one channel per topic, named by its owner (single writer), and one send operation for that owner', () => {
    for (const key of Object.keys(TOPICS) as TopicKey[]) {
      const channel = document.channels[key];
      expect(channel?.address).toBe(TOPICS[key]);
      expect(channel?.['x-grantline-owner']).toBe(TOPIC_OWNERS[key]);
      expect(document.operations[`publish-${key}`]).toMatchObject({ action: 'send', channel: { $ref: `#/channels/${key}` } });
    }
    expect(document.channels['connectorCommands']).toMatchObject({
      address: `iga.connectors.${CONNECTOR_ID_PLACEHOLDER}.commands.v1`,
      'x-grantline-owner': 'provisioning',
    });
    expect(document.channels['connectorResults']).toMatchObject({ 'x-grantline-owner': `connector:${CONNECTOR_ID_PLACEHOLDER}` });
    expect(Object.keys(document.channels['connectorResults']!.messages)).toContain('iga.connector.provisioned.v1');
  });

  it('gives each message the envelope with its type fixed and data = the event schema', () => {
    const payload = document.components.messages['iga.request.submitted.v2']!.payload.schema as {
      properties: Record<string, { const?: unknown; properties?: Record<string, unknown> }>;
      required: string[];
    };
    expect(payload.properties['type']?.const).toBe('iga.request.submitted.v2');
    expect(payload.required).toEqual(expect.arrayContaining(['id', 'source', 'type', 'time', 'subject', 'correlationid', 'actorkind', 'actorid', 'data']));
    // CloudEvents extension attributes are strings (ADR 0027): the actor travels flat.
    expect(payload.properties).not.toHaveProperty('actor');
    expect(Object.keys(payload.properties['data']?.properties ?? {})).toEqual(expect.arrayContaining(['requestId', 'requesterId', 'subject', 'items']));
    // an older version says what consumers receive it as
    expect(document.components.messages['iga.request.submitted.v1']?.['x-grantline-upcast-to']).toBe('iga.request.submitted.v2');
    expect(document.components.messages['iga.request.submitted.v2']?.['x-grantline-upcast-to']).toBeUndefined();
  });

  it('refuses an event definition whose topic is not in the catalogue', () => {
    const stray = createCatalogueRegistry().register(defineEvent('iga.stray.noted', 1, 'iga.stray.v1' as typeof TOPICS.grants, z.object({})));
    expect(() => buildAsyncApiDocument({ registry: stray })).toThrow('iga.stray.noted.v1: topic iga.stray.v1 is not in the topic catalogue');
  });
});
