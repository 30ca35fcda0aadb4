// policy backtest <bundle-dir> [--examples N] [--json]
// Replays every recorded decision on the Kafka log (iga.decisions.v1, with the bundles from
// iga.policy-bundles.v1) through the candidate bundle and prints what would change. Records nothing.
// The policy service's backtest as a terminal command, without the service (an entry point of this app, beside main.ts).
// Run: KAFKA_BROKERS=127.0.0.1:19092 node -r @swc-node/register apps/policy/src/backtest/backtest.cli.ts policies
import { registry } from '@grantline/contracts';
import { KafkaMessageBus, silentLogger } from '@grantline/messaging';
import { formatIssue, lintBundleFiles, loadBundleFromFiles, readBundleDirectory, renderBacktestReport, renderProgressBar } from '@grantline/policy-engine';
import { backtestLog } from './log-backtest';
import type { HistoryStats } from './log-backtest';

const usage =
  'usage: policy backtest <bundle-dir> [--examples N] [--json]   (KAFKA_BROKERS=host:port[,host:port]; KAFKA_TOPIC_NAMESPACE, default local as npm start)';

interface Args {
  readonly dir: string;
  readonly examples: number | undefined;
  readonly json: boolean;
}

const parseArgs = (argv: readonly string[]): Args | string => {
  const positional: string[] = [];
  let examples: number | undefined;
  let json = false;
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i] ?? '';
    if (arg === '--json') json = true;
    else if (arg === '--examples') {
      examples = Number(argv[(i += 1)]);
      if (!Number.isInteger(examples) || examples < 0) return '--examples needs a whole number';
    } else if (arg.startsWith('--')) return `unknown option ${arg}`;
    else positional.push(arg);
  }
  const dir = positional[0];
  if (positional.length !== 1 || dir === undefined) return usage;
  return { dir, examples, json };
};

const describeHistory = (history: HistoryStats): string =>
  [
    `history: ${history.read.toLocaleString('en-US')} decision records, ${history.requests.toLocaleString('en-US')} requests`,
    `${history.reproduced.toLocaleString('en-US')} re-derived with the bundle that decided them`,
    history.fromRecord > 0 ? `${history.fromRecord.toLocaleString('en-US')} from the recorded fields (bundle not on the log)` : '',
    history.refusals > 0 ? `${history.refusals.toLocaleString('en-US')} refused before evaluation (not re-run)` : '',
    history.invalidSnapshots > 0 ? `${history.invalidSnapshots.toLocaleString('en-US')} with an unusable input snapshot` : '',
  ]
    .filter(Boolean)
    .join(' · ');

const main = async (): Promise<number> => {
  const args = parseArgs(process.argv.slice(2));
  if (typeof args === 'string') {
    process.stderr.write(`${args}\n`);
    return 2;
  }
  const brokers = (process.env['KAFKA_BROKERS'] ?? '')
    .split(',')
    .map((broker) => broker.trim())
    .filter(Boolean);
  if (brokers.length === 0) {
    process.stderr.write(`KAFKA_BROKERS is not set\n${usage}\n`);
    return 2;
  }
  const files = readBundleDirectory(args.dir);
  const issues = files.length === 0 ? [] : lintBundleFiles(files);
  if (files.length === 0 || issues.length > 0) {
    if (files.length === 0) process.stderr.write(`${args.dir}: no .yaml files found\n`);
    for (const issue of issues) process.stderr.write(`${args.dir.replace(/\/$/, '')}/${formatIssue(issue)}\n`);
    return 1;
  }
  const candidate = loadBundleFromFiles(files);

  const tty = process.stderr.isTTY === true;
  const started = Date.now();
  let lastDraw = 0;
  const draw = (done: number, total: number | null, force = false): void => {
    const now = Date.now();
    // Redrawing every decision would cost more than evaluating it; ~20 frames a second is plenty.
    if (!force && now - lastDraw < 50) return;
    lastDraw = now;
    const line = renderProgressBar({ done, total, elapsedMs: now - started }, { color: tty });
    process.stderr.write(tty ? `\r${line}` : `${line}\n`);
  };

  // The namespace `npm start` runs in, unless told otherwise (empty: the bare catalogue names).
  const namespace = process.env['KAFKA_TOPIC_NAMESPACE'] ?? 'local';
  const bus = new KafkaMessageBus({ clientId: 'policy-backtest', brokers, registry, logger: silentLogger, ...(namespace === '' ? {} : { namespace }) });
  try {
    await bus.connect();
    process.stderr.write(`reading the decisions log from ${brokers.join(',')} …\n`);
    let last: [number, number | null] = [0, null];
    const { report, history } = await backtestLog(bus, registry, candidate, {
      ...(args.examples !== undefined ? { examplesPerKind: args.examples } : {}),
      onProgress: (done, total) => {
        last = [done, total];
        if (tty || done === total) draw(done, total);
      },
    });
    if (tty) draw(last[0], last[1], true);
    if (tty) process.stderr.write('\n');
    if (args.json) process.stdout.write(`${JSON.stringify({ history, report }, null, 2)}\n`);
    else process.stdout.write(`${renderBacktestReport(report, { color: process.stdout.isTTY === true })}\n${describeHistory(history)}\n`);
    return 0;
  } finally {
    await bus.disconnect();
  }
};

// kafkajs 2.2.4 arms a timer with a negative delay on Node >= 23 (Node clamps it to 1 ms): noise on a terminal.
process.removeAllListeners('warning');
process.on('warning', (warning) => {
  if (warning.name !== 'TimeoutNegativeWarning') process.stderr.write(`${warning.name}: ${warning.message}\n`);
});

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`backtest failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
