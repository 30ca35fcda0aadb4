import { createHash } from 'node:crypto';
import { TOPICS } from '@grantline/contracts';
import type { DeadLetteredData } from '@grantline/contracts';
import { isInboundItsmDeadLetter, rescueInbound } from './itsm-dead-letter.rescue';

/** The original record's bytes, as read back from the log by the dead letter's reference. */
const bytesOf = (value: unknown): Buffer => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value));
const deadLetter = (value: unknown, topic: string = TOPICS.itsmInbound): DeadLetteredData => ({
  origin: { topic, partition: 0, offset: '7', key: null },
  original: { sha256: createHash('sha256').update(bytesOf(value)).digest('hex'), sizeBytes: bytesOf(value).length },
  reason: 'undecodable message: schema',
  issues: [],
  errorClass: 'schema_invalid',
  failedAt: '2025-06-02T10:00:00.000Z',
  attempts: 1,
  consumerGroup: 'intake',
});
/** Rescues a dead letter of `value`, reading the original back as it is on the log. */
const rescued = (value: unknown) => rescueInbound(deadLetter(value), bytesOf(value));
const serviceNowItem = {
  sys_id: 'b'.repeat(32),
  number: 'RITM0010002',
  requested_for: { value: 'bob', display_value: 'Bob' },
  opened_by: 'alice',
  variables: { entitlements: 'orders-staging-read', justification: 'release checks', duration: 'PT8H' },
};

describe('rescue of dead-lettered inbound ITSM messages', () => {
  it('only concerns the inbound ITSM topic', () => {
    expect(isInboundItsmDeadLetter(deadLetter({}))).toBe(true);
    expect(isInboundItsmDeadLetter(deadLetter({}, TOPICS.requests))).toBe(false);
  });

  it('maps a ServiceNow catalog item onto the generic request', () => {
    expect(rescued({ id: 'evt-sn', data: serviceNowItem })).toMatchObject({
      kind: 'process',
      causationId: 'evt-sn',
      data: { ticket: { system: 'servicenow', id: 'RITM0010002' }, requesterId: 'alice', subject: { id: 'bob', kind: 'human' }, duration: 'PT8H' },
    });
  });

  it('rejects a broken ServiceNow item on its ticket, naming the fields', () => {
    const broken = { ...serviceNowItem, variables: { ...serviceNowItem.variables, justification: '' } };
    expect(rescued({ data: broken })).toEqual({
      kind: 'reject',
      ticket: { system: 'servicenow', id: 'RITM0010002' },
      reasons: [expect.stringContaining('justification')],
    });
  });

  it('rejects a structurally invalid generic ticket with the contract issues', () => {
    const rescue = rescued({ data: { ticket: { system: 'jira', id: 'OPS-1' }, requesterId: 'alice' } });
    expect(rescue).toMatchObject({ kind: 'reject', ticket: { system: 'jira', id: 'OPS-1' } });
    expect(rescue.kind === 'reject' ? rescue.reasons : []).toEqual(
      expect.arrayContaining([expect.stringContaining('subject'), expect.stringContaining('justification')]),
    );
  });

  it('reads the original by reference: gone from the log, or not the record refused (another digest), it answers nothing', () => {
    const item = { id: 'evt-sn', data: serviceNowItem };
    expect(rescueInbound(deadLetter(item), undefined)).toEqual({ kind: 'unanswerable', reason: 'the original record is no longer on the log' });
    expect(rescueInbound(deadLetter(item), bytesOf({ ...item, id: 'evt-other' }))).toMatchObject({
      kind: 'unanswerable',
      reason: expect.stringMatching(/digest differs/),
    });
  });

  it('cannot answer what names no ticket, and says why', () => {
    expect(rescued('not json')).toMatchObject({ kind: 'unanswerable' });
    expect(rescued({ data: { requesterId: 'alice' } })).toMatchObject({ kind: 'unanswerable', reason: 'no valid ticket reference' });
  });
});
