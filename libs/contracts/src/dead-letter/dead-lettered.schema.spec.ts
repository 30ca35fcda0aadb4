import { createHash } from 'node:crypto';
import { sha256Hex } from '../common/sha256';
import { fixtureMeta, fixtureOf } from '../fixtures/event.fixtures';
import { registry } from '../registry/catalogue';
import { claimedEvent, withoutJsonSnippet, withoutValues } from './dead-letter-reference';
import { DeadLetteredV2DataSchema, MessagingDeadLettered, MessagingDeadLetteredV1 } from './dead-lettered.schema';
import type { DeadLetteredV1Data } from './dead-lettered.schema';

const nodeSha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
const overTheWire = (value: unknown): unknown => JSON.parse(JSON.stringify(value));

const SECRET = 'hunter2-Sup3rS3cret!';
const poison = JSON.stringify({ specversion: '1.0', id: 'evt-77', type: 'iga.request.submitted.v2', data: { justification: 'x', password: SECRET } });

function v1DeadLetter(
  value: DeadLetteredV1Data['value'],
  reason = 'undecodable message: ContractViolationError: iga.request.submitted.v2 is invalid: data.password: Unrecognized key',
): DeadLetteredV1Data {
  return { ...fixtureOf(MessagingDeadLetteredV1).data, reason, value };
}

describe('sha256Hex (pure, for upcasters)', () => {
  it.each([
    ['empty', new Uint8Array()],
    ['abc', new TextEncoder().encode('abc')],
    ['55 bytes (padding fits one block)', new Uint8Array(55).fill(7)],
    ['56 bytes (padding needs a second block)', new Uint8Array(56).fill(9)],
    ['a multi-block value', Uint8Array.from({ length: 5_000 }, (_, i) => (i * 31) % 256)],
  ])('given %s, then it equals node:crypto', (_name, bytes) => {
    expect(sha256Hex(bytes)).toBe(nodeSha256(bytes));
  });
});

describe('iga.messaging.dead-lettered: v2 keeps a reference, never the bytes', () => {
  it('given a v1 dead letter with a copy of a secret-bearing value, when decoded, then v2 holds its digest and claimed id/type and nothing of its content', () => {
    const v1 = registry.encode(MessagingDeadLetteredV1, v1DeadLetter({ encoding: 'utf8', data: poison, sizeBytes: Buffer.byteLength(poison) }), fixtureMeta());

    const decoded = registry.decode(overTheWire(v1));

    expect(decoded.type).toBe(MessagingDeadLettered.type);
    expect(decoded.data).toEqual({
      origin: v1.data.origin,
      event: { id: 'evt-77', type: 'iga.request.submitted.v2' },
      original: { sha256: nodeSha256(Buffer.from(poison)), sizeBytes: Buffer.byteLength(poison) },
      reason: v1.data.reason,
      issues: [],
      errorClass: 'schema_invalid',
      failedAt: v1.data.failedAt,
      attempts: 1,
      consumerGroup: 'policy',
    });
    expect(JSON.stringify(decoded)).not.toContain(SECRET);
  });

  it('given a v1 copy kept as base64 (not UTF-8), then the digest is of the original bytes', () => {
    const bytes = Buffer.from([0xff, 0xfe, 0x00, 0x41]);
    const v1 = registry.encode(
      MessagingDeadLetteredV1,
      v1DeadLetter({ encoding: 'base64', data: bytes.toString('base64'), sizeBytes: 4 }, 'undecodable message: SyntaxError: bad'),
      fixtureMeta(),
    );

    expect(registry.decode(overTheWire(v1)).data).toMatchObject({ original: { sha256: nodeSha256(bytes), sizeBytes: 4 } });
  });

  it('given a v1 reason quoting the JSON around a syntax error, then v2 drops the quote', () => {
    const broken = `{"password":"${SECRET}"`;
    const reason = `undecodable message: SyntaxError: Expected ',' or '}' after property value in JSON at position 33: "${broken}"`;
    const v1 = registry.encode(MessagingDeadLetteredV1, v1DeadLetter({ encoding: 'utf8', data: broken, sizeBytes: broken.length }, reason), fixtureMeta());

    const decoded = registry.decode(overTheWire(v1));

    expect(decoded.data).toMatchObject({ reason: 'undecodable message: SyntaxError: value is not valid JSON' });
    expect(decoded.data).not.toHaveProperty('event');
    expect(JSON.stringify(decoded)).not.toContain(SECRET);
  });

  it('given v2 data, then a copy of the value has no place in it', () => {
    const v2 = fixtureOf(MessagingDeadLettered).data;

    expect(DeadLetteredV2DataSchema.safeParse({ ...v2, value: { encoding: 'utf8', data: poison, sizeBytes: 1 } }).error?.issues).toEqual([
      expect.objectContaining({ code: 'unrecognized_keys', keys: ['value'] }),
    ]);
  });
});

describe('what a dead letter may say about the record', () => {
  it('given a raw record, then only a well-formed id and type are claimed', () => {
    expect(claimedEvent({ id: 'evt-1', type: 'iga.request.submitted.v2' })).toEqual({ id: 'evt-1', type: 'iga.request.submitted.v2' });
    expect(claimedEvent({ id: 'has space', type: 'not a type' })).toBeUndefined();
    expect(claimedEvent({ id: 'evt-1', type: 42 })).toEqual({ id: 'evt-1' });
    expect(claimedEvent('just a string')).toBeUndefined();
  });

  it('given a message quoting a value of the record, then the value is redacted but the claimed type stays', () => {
    const raw = { id: 'evt-1', type: 'iga.spec.thing.v1', data: { nested: [{ apiKey: SECRET }], tiny: 'ab' } };

    expect(withoutValues(`iga.spec.thing.v1 is invalid: data.nested.0.apiKey: "${SECRET}" is not allowed (ab)`, raw)).toBe(
      'iga.spec.thing.v1 is invalid: data.nested.0.apiKey: "[redacted]" is not allowed (ab)',
    );
  });

  it('given a reason from JSON.parse, then the quoted bytes are cut', () => {
    expect(withoutJsonSnippet(`undecodable message: SyntaxError: Unexpected token 'h', "${SECRET}" is not valid JSON`)).toBe(
      'undecodable message: SyntaxError: value is not valid JSON',
    );
    expect(withoutJsonSnippet('Unknown event type: iga.x.v9')).toBe('Unknown event type: iga.x.v9');
  });
});
