// `grantline decision reproduce <decisionId>`: re-run a recorded policy decision from the log (its input and the
// bundle it names, both read back from the topics) and say, field by field, whether it comes out the same.
import { PolicyBundleLoaded, PolicyDecisionRecorded, registry } from '@grantline/contracts';
import type { Envelope } from '@grantline/contracts';
import { reproduceFromLog } from '@grantline/policy-engine';
import type { RecordedReproduction } from '@grantline/policy-engine';
import type { Output } from '../output';

/** 0 identical, 1 different (with the diff), 2 no such decision on the log, 3 not reproducible (v1, refused, no bundle). */
export const REPRODUCE_EXIT = { identical: 0, different: 1, notFound: 2, notReproducible: 3 } as const;

/** Reads every record of the given logical topics (a missing topic holds nothing). */
export type LogReader = (topics: readonly string[]) => Promise<Envelope[]>;

/** The topics a reproduction reads: the recorded decisions and the bundles they name. */
export const REPRODUCTION_TOPICS: readonly string[] = [
  ...new Set([registry.latestOf(PolicyDecisionRecorded.name).topic, registry.latestOf(PolicyBundleLoaded.name).topic]),
];

const render = (result: RecordedReproduction): string => {
  switch (result.status) {
    case 'identical':
      return `decision ${result.decisionId}: identical, bit for bit (${result.fields.length} fields)\n${result.fields.map((field) => `  = ${field}\n`).join('')}`;
    case 'not_reproducible':
      return `decision ${result.decisionId}: ${result.reason}\n`;
    case 'different':
      return (
        `decision ${result.decisionId}: DIFFERENT: ${result.reason}\n` +
        result.differences
          .map((d) => `  ≠ ${d.field}\n      recorded:   ${d.recorded ?? '(absent)'}\n      reproduced: ${d.reproduced ?? '(absent)'}\n`)
          .join('')
      );
  }
};

const EXIT_OF: Readonly<Record<RecordedReproduction['status'], number>> = {
  identical: REPRODUCE_EXIT.identical,
  different: REPRODUCE_EXIT.different,
  not_reproducible: REPRODUCE_EXIT.notReproducible,
};

/** Reproduces one recorded decision (by decision id or event id) and prints the comparison (`--json`: the result). */
export async function decisionReproduce(read: LogReader, decisionId: string, options: { readonly json?: boolean }, io: Output): Promise<number> {
  const results = reproduceFromLog(await read(REPRODUCTION_TOPICS), decisionId);
  const result = results.at(-1);
  if (result === undefined) {
    io.err(`no recorded decision ${decisionId} on the log\n`);
    return REPRODUCE_EXIT.notFound;
  }
  io.out(options.json === true ? `${JSON.stringify(result, null, 2)}\n` : render(result));
  return EXIT_OF[result.status];
}
