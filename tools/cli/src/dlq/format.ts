import type { DeadLetterEntry } from './dead-letter-log';
import type { RedriveOutcome, ShownDeadLetter } from './dead-letter-queue';

const oneLine = (text: string, max = 160): string => {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
};

/** `origin topic/partition@offset  event type  class: reason  time  group  id` — one dead letter per line. */
export function formatListLine(entry: DeadLetterEntry): string {
  const { data } = entry;
  const origin = `${data.origin.topic}/${data.origin.partition}@${data.origin.offset}`;
  const type = data.event?.type ?? '(no type)';
  return [origin, type, `${data.errorClass}: ${oneLine(data.reason)}`, data.failedAt, `group=${data.consumerGroup}`, `id=${entry.id}`].join('  ');
}

export function formatList(entries: readonly DeadLetterEntry[], unreadable: number): string {
  const lines = entries.map(formatListLine);
  if (entries.length === 0) lines.push('no dead letters waiting');
  if (unreadable > 0) lines.push(`(${unreadable} record(s) on the dead-letter topics this release cannot read)`);
  return `${lines.join('\n')}\n`;
}

/** The machine-readable list: the dead letters as recorded, with their id and topic. */
export function listJson(entries: readonly DeadLetterEntry[]): string {
  return `${JSON.stringify(
    entries.map((entry) => ({ id: entry.id, deadLetterTopic: entry.deadLetterTopic, writtenBy: entry.writtenBy, ...entry.data })),
    null,
    2,
  )}\n`;
}

const field = (name: string, value: string): string => `${name.padEnd(14)}${value}`;

/** The reference, the reason and the original as read back now (redacted). */
export function formatShow({ entry, original }: ShownDeadLetter): string {
  const { data } = entry;
  const { origin } = data;
  const lines = [
    field('dead letter', `${entry.id} (on ${entry.deadLetterTopic}, written by ${entry.writtenBy})`),
    field(
      'origin',
      `${origin.topic} partition ${origin.partition} offset ${origin.offset} key ${origin.key ?? '(none)'}${origin.timestamp === undefined ? '' : ` at ${origin.timestamp}`}`,
    ),
    field('event', data.event === undefined ? '(no well-formed id or type)' : `${data.event.type ?? '(no type)'} ${data.event.id ?? '(no id)'}`),
    field('refused by', `${data.consumerGroup} at ${data.failedAt} (attempts: ${data.attempts})`),
    field('class', data.errorClass),
    field('reason', data.reason),
    ...data.issues.map((issue, index) => field(index === 0 ? 'fields' : '', `${issue.path || '(root)'}: ${issue.message}`)),
    field('original', `sha256 ${data.original.sha256} (${data.original.sizeBytes} bytes)`),
    field('re-driven', entry.republished === undefined ? 'no' : `at ${entry.republished.at} by ${entry.republished.by}`),
    '',
  ];
  switch (original.state) {
    case 'unreadable':
      lines.push(`original record: ${original.why}`);
      break;
    case 'refused':
      lines.push(`original record (read back by reference; same SHA-256): ${original.why}`);
      for (const issue of original.issues) lines.push(`  ${issue.path || '(root)'}: ${issue.message}`);
      if (original.shown === undefined) lines.push(`  (not JSON, ${original.record.value?.length ?? 0} bytes: not shown)`);
      else lines.push(JSON.stringify(original.shown, null, 2));
      break;
    case 'valid':
      lines.push(`original record (read back by reference; same SHA-256): decodes now as ${original.event.type}; sensitive-looking fields redacted`);
      lines.push(JSON.stringify(original.shown, null, 2));
      break;
  }
  return `${lines.join('\n')}\n`;
}

export function showJson({ entry, original }: ShownDeadLetter): string {
  const shown =
    original.state === 'unreadable'
      ? { state: original.state, why: original.why }
      : original.state === 'refused'
        ? { state: original.state, why: original.why, issues: original.issues, record: original.shown }
        : { state: original.state, type: original.event.type, record: original.shown };
  return `${JSON.stringify({ id: entry.id, deadLetterTopic: entry.deadLetterTopic, writtenBy: entry.writtenBy, ...entry.data, republished: entry.republished ?? null, original: shown }, null, 2)}\n`;
}

export function formatRedrive(outcomes: readonly RedriveOutcome[], dryRun: boolean): string {
  const lines = outcomes.map(
    (outcome) => `${outcome.status.padEnd(20)}${outcome.id}${outcome.origin === undefined ? '' : `  ${outcome.origin}`}  ${outcome.message}`,
  );
  if (outcomes.length === 0) lines.push('nothing to re-drive');
  const count = (status: RedriveOutcome['status']): number => outcomes.filter((outcome) => outcome.status === status).length;
  const done = dryRun ? `${count('would-republish')} would be re-driven` : `${count('republished')} re-driven`;
  lines.push(`${done}, ${count('refused')} refused, ${count('already-republished')} already re-driven, ${count('unknown')} unknown`);
  return `${lines.join('\n')}\n`;
}
