import { TOPICS } from '@grantline/contracts';
import type { DeadLetteredData } from '@grantline/contracts';
import { isInboundItsmDeadLetter, rescueInbound } from './itsm-dead-letter.rescue';

const deadLetter = (value: unknown, topic: string = TOPICS.itsmInbound): DeadLetteredData => ({
  origin: { topic, partition: 0, offset: '7', key: null },
  reason: 'undecodable message: schema',
  errorClass: 'schema_invalid',
  value: { encoding: 'utf8', data: typeof value === 'string' ? value : JSON.stringify(value), sizeBytes: 1 },
  failedAt: '2025-06-02T10:00:00.000Z',
  attempts: 1,
  consumerGroup: 'intake',
});
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
    expect(rescueInbound(deadLetter({ id: 'evt-sn', data: serviceNowItem }))).toMatchObject({
      kind: 'process',
      causationId: 'evt-sn',
      data: { ticket: { system: 'servicenow', id: 'RITM0010002' }, requesterId: 'alice', subject: { id: 'bob', kind: 'human' }, duration: 'PT8H' },
    });
  });

  it('rejects a broken ServiceNow item on its ticket, naming the fields', () => {
    const broken = { ...serviceNowItem, variables: { ...serviceNowItem.variables, justification: '' } };
    expect(rescueInbound(deadLetter({ data: broken }))).toEqual({
      kind: 'reject',
      ticket: { system: 'servicenow', id: 'RITM0010002' },
      reasons: [expect.stringContaining('justification')],
    });
  });

  it('rejects a structurally invalid generic ticket with the contract issues', () => {
    const rescue = rescueInbound(deadLetter({ data: { ticket: { system: 'jira', id: 'OPS-1' }, requesterId: 'alice' } }));
    expect(rescue).toMatchObject({ kind: 'reject', ticket: { system: 'jira', id: 'OPS-1' } });
    expect(rescue.kind === 'reject' ? rescue.reasons : []).toEqual(expect.arrayContaining([expect.stringContaining('subject'), expect.stringContaining('justification')]));
  });

  it('cannot answer what names no ticket, and says why', () => {
    expect(rescueInbound(deadLetter('not json'))).toMatchObject({ kind: 'unanswerable' });
    expect(rescueInbound(deadLetter({ data: { requesterId: 'alice' } }))).toMatchObject({ kind: 'unanswerable', reason: 'no valid ticket reference' });
  });
});
