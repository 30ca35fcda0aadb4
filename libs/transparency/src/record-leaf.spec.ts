import { recordLeafData, recordLeafHash } from './record-leaf';
import type { LogRecordBytes } from './record-leaf';

const record: LogRecordBytes = {
  topic: 'iga.requests.v1',
  partition: 2,
  offset: '41',
  key: Buffer.from('req-0001'),
  value: Buffer.from('{"id":"evt-0001","type":"iga.request.submitted.v2"}'),
  headers: [
    { key: 'content-type', value: Buffer.from('application/cloudevents+json') },
    { key: 'ce_id', value: Buffer.from('evt-0001') },
  ],
};

const hex = (changed: LogRecordBytes): string => recordLeafHash(changed).toString('hex');

describe('record leaf encoding', () => {
  it('given the same record, then it encodes and hashes the same (deterministic)', () => {
    expect(recordLeafData({ ...record, headers: [...record.headers] }).equals(recordLeafData(record))).toBe(true);
  });

  it('when any single field changes, then the leaf hash changes', () => {
    const variants: LogRecordBytes[] = [
      { ...record, topic: 'iga.requests.v2' },
      { ...record, partition: 3 },
      { ...record, offset: '42' },
      { ...record, key: Buffer.from('req-0002') },
      { ...record, key: null },
      { ...record, value: Buffer.from('{"id":"evt-0001","type":"iga.request.submitted.v3"}') },
      { ...record, value: null },
      { ...record, value: Buffer.alloc(0) },
      { ...record, headers: [] },
      { ...record, headers: [...record.headers].reverse() },
      { ...record, headers: [record.headers[0]!, { key: 'ce_id', value: null }] },
      { ...record, headers: [record.headers[0]!, { key: 'ce_ID', value: record.headers[1]!.value }] },
      { ...record, headers: [...record.headers, record.headers[1]!] },
    ];
    const hashes = new Set([hex(record), ...variants.map(hex)]);
    expect(hashes.size).toBe(variants.length + 1);
  });

  it('when bytes move between fields, then the encodings differ (every extent is explicit)', () => {
    const moved: [LogRecordBytes, LogRecordBytes][] = [
      [
        { ...record, key: Buffer.from('ab'), value: Buffer.from('cd') },
        { ...record, key: Buffer.from('abc'), value: Buffer.from('d') },
      ],
      [
        { ...record, key: Buffer.alloc(0), value: null },
        { ...record, key: null, value: Buffer.alloc(0) },
      ],
      [
        { ...record, topic: 'iga.requests.v1', headers: [{ key: 'k', value: Buffer.from('v') }] },
        { ...record, topic: 'iga.requests.v1k', headers: [{ key: '', value: Buffer.from('v') }] },
      ],
      [
        { ...record, headers: [{ key: 'a', value: Buffer.from('bc') }] },
        { ...record, headers: [{ key: 'ab', value: Buffer.from('c') }] },
      ],
      [
        {
          ...record,
          headers: [
            { key: 'a', value: null },
            { key: 'b', value: null },
          ],
        },
        { ...record, headers: [{ key: 'a', value: Buffer.from('b') }] },
      ],
    ];
    for (const [first, second] of moved) expect(recordLeafData(first).equals(recordLeafData(second))).toBe(false);
  });

  it.each([
    ['a negative partition', { partition: -1 }, 'partition'],
    ['an offset with a leading zero', { offset: '041' }, 'offset'],
    ['an offset that is no number', { offset: '4e1' }, 'offset'],
    ['an offset beyond 64 bits', { offset: '9223372036854775808' }, 'offset'],
  ])('given %s, then the encoding refuses it naming the field', (_label, change, field) => {
    expect(() => recordLeafData({ ...record, ...change })).toThrow(new RegExp(`^${field}: `));
  });
});
