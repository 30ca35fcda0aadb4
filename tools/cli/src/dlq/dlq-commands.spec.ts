import type { DeadLetteredData } from '@grantline/contracts';
import { bufferedOutput } from '../output';
import type { DeadLetterEntry } from './dead-letter-log';
import type { DeadLetterQueue, RedriveOutcome, ShownDeadLetter } from './dead-letter-queue';
import { EXIT, dlqList, dlqRedrive, dlqShow } from './dlq-commands';
import { formatListLine } from './format';

const data: DeadLetteredData = {
  origin: { topic: 'iga.itsm.inbound.v1', partition: 2, offset: '41', key: 'RITM1', timestamp: '2025-06-02T09:59:59.000Z' },
  event: { id: 'evt-1', type: 'iga.spec.noted.v1' },
  original: { sha256: 'a'.repeat(64), sizeBytes: 120 },
  reason: 'undecodable message: UnknownEventTypeError: Unknown event type: iga.spec.noted.v1',
  issues: [],
  errorClass: 'unknown_type',
  failedAt: '2025-06-02T10:00:00.000Z',
  attempts: 1,
  consumerGroup: 'intake',
};
const entry: DeadLetterEntry = { id: 'dl-1', deadLetterTopic: 'iga.dead-letter.v1', writtenBy: 'grantline/intake', data };

/** A queue that answers what the spec says and records what it was asked. */
function queueAnswering(answers: { list?: DeadLetterEntry[]; show?: ShownDeadLetter; redrive?: RedriveOutcome[] }) {
  const asked: unknown[] = [];
  const queue = {
    list: async (filter: unknown) => (asked.push(filter), { entries: answers.list ?? [], unreadable: 0 }),
    show: async () => answers.show,
    redrive: async (selection: unknown, options: { onProgress?: (done: number, total: number) => void }) => {
      asked.push(selection);
      options.onProgress?.(1, 1);
      return answers.redrive ?? [];
    },
  } as unknown as DeadLetterQueue;
  return { queue, asked };
}

describe('grantline dlq commands', () => {
  it('list: one line per dead letter with origin, event type, reason, time, group and id', async () => {
    const { queue, asked } = queueAnswering({ list: [entry] });
    const io = bufferedOutput();

    expect(await dlqList(queue, { topic: 'iga.itsm.inbound.v1', since: '2025-06-01T00:00:00Z' }, io)).toBe(EXIT.ok);

    expect(io.stdout()).toBe(
      'iga.itsm.inbound.v1/2@41  iga.spec.noted.v1  unknown_type: undecodable message: UnknownEventTypeError: Unknown event type: iga.spec.noted.v1  2025-06-02T10:00:00.000Z  group=intake  id=dl-1\n',
    );
    expect(asked).toEqual([{ originTopic: 'iga.itsm.inbound.v1', since: new Date('2025-06-01T00:00:00Z') }]);
  });

  it('list --json: the dead letters as recorded; a bad --since is a usage error', async () => {
    const io = bufferedOutput();
    expect(await dlqList(queueAnswering({ list: [entry] }).queue, { json: true }, io)).toBe(EXIT.ok);
    expect(JSON.parse(io.stdout())).toEqual([{ id: 'dl-1', deadLetterTopic: 'iga.dead-letter.v1', writtenBy: 'grantline/intake', ...data }]);

    const bad = bufferedOutput();
    expect(await dlqList(queueAnswering({}).queue, { since: 'yesterday' }, bad)).toBe(EXIT.usage);
    expect(bad.stderr()).toMatch(/--since: not an ISO-8601/);
  });

  it('show: the reference, the reason, and the redacted original; an unknown id exits 1', async () => {
    const record = { topic: data.origin.topic, partition: 2, offset: '41', key: 'RITM1', value: Buffer.from('{}'), timestamp: data.failedAt };
    const shown: ShownDeadLetter = {
      entry,
      original: { state: 'valid', record, raw: {}, event: { type: 'iga.spec.noted.v1' } as never, shown: { data: { password: '[redacted]' } } },
    };
    const io = bufferedOutput();

    expect(await dlqShow(queueAnswering({ show: shown }).queue, 'dl-1', {}, io)).toBe(EXIT.ok);

    expect(io.stdout()).toContain('origin        iga.itsm.inbound.v1 partition 2 offset 41 key RITM1 at 2025-06-02T09:59:59.000Z');
    expect(io.stdout()).toContain(`original      sha256 ${'a'.repeat(64)} (120 bytes)`);
    expect(io.stdout()).toContain('decodes now as iga.spec.noted.v1; sensitive-looking fields redacted');
    expect(io.stdout()).toContain('"password": "[redacted]"');
    const missing = bufferedOutput();
    expect(await dlqShow(queueAnswering({}).queue, 'nope', {}, missing)).toBe(EXIT.refused);
    expect(missing.stderr()).toBe('no dead letter nope on the dead-letter topics\n');
  });

  it('redrive: ids or --all, never neither nor both; exit 1 when anything was refused; progress is reported and stopped', async () => {
    const usage = bufferedOutput();
    expect(await dlqRedrive(queueAnswering({}).queue, [], {}, usage)).toBe(EXIT.usage);
    expect(await dlqRedrive(queueAnswering({}).queue, ['dl-1'], { all: true }, usage)).toBe(EXIT.usage);

    const progress: string[] = [];
    const bar = { update: (done: number, total: number) => void progress.push(`${done}/${total}`), stop: () => void progress.push('stop') };
    const refused: RedriveOutcome = { id: 'dl-1', status: 'refused', origin: 'iga.itsm.inbound.v1/2@41', message: 'not re-driven: still not JSON' };
    const io = bufferedOutput();
    expect(await dlqRedrive(queueAnswering({ redrive: [refused] }).queue, [], { all: true }, io, bar)).toBe(EXIT.refused);
    expect(io.stdout()).toBe(
      'refused             dl-1  iga.itsm.inbound.v1/2@41  not re-driven: still not JSON\n0 re-driven, 1 refused, 0 already re-driven, 0 unknown\n',
    );
    expect(progress).toEqual(['1/1', 'stop']);

    const ok = bufferedOutput();
    expect(
      await dlqRedrive(
        queueAnswering({ redrive: [{ ...refused, status: 'would-republish', message: 'would republish' }] }).queue,
        ['dl-1'],
        { dryRun: true },
        ok,
      ),
    ).toBe(EXIT.ok);
    expect(ok.stdout()).toMatch(/1 would be re-driven, 0 refused/);
  });

  it('formats an entry without a claimed event as such', () => {
    const { event: _event, ...noEvent } = data;
    expect(formatListLine({ ...entry, data: noEvent })).toMatch(/^iga\.itsm\.inbound\.v1\/2@41 {2}\(no type\) {2}/);
  });
});
