import type { ControlEvidence, EventLink, EvidencePack, LineStatus } from './evidence-pack.model';

const STATUS_TEXT: Record<ControlEvidence['status'], string> = {
  satisfied: 'satisfied',
  finding: '**finding**',
  not_observable: 'not observable',
};

const LINE_TEXT: Record<LineStatus, string> = { ok: 'ok', finding: '**finding**', pending: 'pending' };

/** Markdown tables and lists break on pipes and newlines inside values. */
const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');

/** `iga.grants.v1/0@12 iga.grant.revoked.v1 (id)`: enough to find the record on the log and the event by id. */
export const linkText = (link: EventLink): string => `\`${link.topic}/${link.partition}@${link.offset}\` ${link.type} \`${link.id}\` ${link.time}`;

/** The pack as a Markdown document an auditor can read and file: summary table, then each control with its lines. */
export function renderEvidenceMarkdown(pack: EvidencePack): string {
  const out: string[] = [];
  out.push(`# Access control evidence: ${pack.period.from} – ${pack.period.to}`, '');
  out.push(`Evaluated at ${pack.evaluatedAt} from ${pack.log.events} events read from the beginning of the log (${pack.log.source}).`, '');
  out.push(`Topics: ${pack.log.topics.map((topic) => `\`${topic}\``).join(', ')}. Read through: ${throughText(pack)}.`, '');
  out.push(
    `Parameters: removal tolerance ${pack.parameters.removalTolerance}; standing privilege after ${pack.parameters.standingPrivilegeAfter}; credential maximum lifetime ${pack.parameters.credentialMaxLifetime} (when the policy decision states none).`,
    '',
  );
  out.push(`Summary: ${pack.summary.satisfied} satisfied, ${pack.summary.findings} with findings, ${pack.summary.notObservable} not observable.`, '');
  out.push('| control | framework | title | status | items | findings |', '| --- | --- | --- | --- | --- | --- |');
  for (const control of pack.controls) {
    out.push(`| ${control.id} | ${control.framework} | ${cell(control.title)} | ${STATUS_TEXT[control.status]} | ${control.count} | ${control.findings} |`);
  }
  for (const control of pack.controls) {
    out.push('', `## ${control.id} ${control.title} (${control.framework})`, '');
    out.push(`Requirement: ${control.requirement}`, '');
    out.push(`How it is checked: ${control.method}`, '');
    out.push(`Status: ${STATUS_TEXT[control.status]}. ${control.reason}`, '');
    if (control.lines.length === 0) continue;
    for (const line of control.lines) {
      out.push(`- ${LINE_TEXT[line.status]} · \`${cell(line.about)}\` · ${line.text}`);
      for (const link of line.links) out.push(`  - ${linkText(link)}`);
    }
  }
  // A control without lines ends on a blank line that the next heading's blank line would double.
  return `${out.join('\n').replace(/\n{3,}/g, '\n\n')}\n`;
}

function throughText(pack: EvidencePack): string {
  const parts = Object.entries(pack.log.through).flatMap(([topic, partitions]) =>
    Object.entries(partitions).map(([partition, offset]) => `${topic}/${partition}@${offset}`),
  );
  return parts.length === 0 ? 'nothing (empty log)' : parts.sort().join(', ');
}
