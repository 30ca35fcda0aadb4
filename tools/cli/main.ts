// grantline: the operator CLI. `bash scripts/grantline cli <command>` or `npm run grantline -- <command>`.
//   dlq list [--topic T] [--since ISO] [--json]     dead letters not re-driven yet, one per line
//   dlq show <dead-letter-id> [--json]               the reference, the reason, and the original read back (redacted)
//   dlq redrive <id…> | --all [--dry-run]            republish originals this release validates, recorded once
//   policy lint <bundle-dir>                         validate a policy bundle (CI); exit 1 with file:line:col errors
//   policy simulate <bundle-dir> <input.json> [--trace]
// Kafka: KAFKA_BROKERS and KAFKA_TOPIC_NAMESPACE, as the services read them (or --brokers / --namespace).
// The logic lives in tools/cli/src (unit and integration specs); this file only wires the command line.
import { userInfo } from 'node:os';
import { Command, Option } from 'commander';
import { registry } from '@grantline/contracts';
import { describeError } from '@grantline/messaging';
import { SettingsError, kafkaSettings, openBus } from './src/connection';
import { DeadLetterQueue } from './src/dlq/dead-letter-queue';
import { EXIT, dlqList, dlqRedrive, dlqShow, redriveUsageError } from './src/dlq/dlq-commands';
import { processOutput } from './src/output';
import { policyLint, policySimulate } from './src/policy/policy-commands';
import { progressBar } from './src/progress';

interface GlobalOptions {
  readonly brokers?: string;
  readonly namespace?: string;
  readonly dlqTopic?: string[];
  readonly verbose?: boolean;
}

const operator = (): string => process.env['GRANTLINE_OPERATOR'] ?? userInfo().username;

/** Runs one dlq command on a bus opened for it, and closes the bus whatever happens. */
async function withQueue(command: Command, work: (queue: DeadLetterQueue) => Promise<number>): Promise<void> {
  const options = command.optsWithGlobals<GlobalOptions>();
  const settings = kafkaSettings(process.env, {
    ...(options.brokers === undefined ? {} : { brokers: options.brokers }),
    ...(options.namespace === undefined ? {} : { namespace: options.namespace }),
  });
  const bus = openBus(settings, registry, { verbose: options.verbose === true });
  process.stderr.write(`grantline: Kafka ${settings.brokers.join(',')}${settings.namespace === undefined ? '' : `, namespace ${settings.namespace}`}\n`);
  try {
    await bus.connect();
    const queue = new DeadLetterQueue(bus, {
      registry,
      operator: operator(),
      ...(options.dlqTopic === undefined ? {} : { deadLetterTopics: options.dlqTopic }),
    });
    process.exitCode = await work(queue);
  } finally {
    await bus.disconnect();
  }
}

const program = new Command('grantline')
  .description('Grantline operator CLI')
  .addOption(new Option('--brokers <host:port,...>', 'Kafka brokers').env('KAFKA_BROKERS'))
  .addOption(new Option('--namespace <name>', "topic namespace ('' for none; npm start uses local)").env('KAFKA_TOPIC_NAMESPACE'))
  .option('--verbose', 'log the Kafka client on stderr')
  .showHelpAfterError();

const dlq = program
  .command('dlq')
  .description('dead letters: records a consumer refused, kept by reference')
  .option('--dlq-topic <topic...>', 'dead-letter topic(s) to read (default: the catalogue one, iga.dead-letter.v1)');

dlq
  .command('list')
  .description('one line per dead letter not re-driven yet: origin topic/partition@offset, event type, reason, time')
  .option('--topic <topic>', 'only records that came from this topic')
  .option('--since <iso>', 'only dead letters written at or after this time')
  .option('--json', 'machine-readable')
  .action(async (options: { topic?: string; since?: string; json?: boolean }, command: Command) => {
    await withQueue(command, (queue) => dlqList(queue, options, processOutput));
  });

dlq
  .command('show')
  .description('the reference, the reason, and the original read back from its topic (sensitive-looking fields redacted)')
  .argument('<dead-letter-id>')
  .option('--json', 'machine-readable')
  .action(async (id: string, options: { json?: boolean }, command: Command) => {
    await withQueue(command, (queue) => dlqShow(queue, id, options, processOutput));
  });

dlq
  .command('redrive')
  .description('republish originals this release validates to their topic (same event id), recorded so never twice')
  .argument('[ids...]', 'dead-letter ids')
  .option('--all', 'every dead letter not re-driven yet')
  .option('--dry-run', 'say what would be re-driven, publish nothing')
  .action(async (ids: string[], options: { all?: boolean; dryRun?: boolean }, command: Command) => {
    const usage = redriveUsageError(ids, options);
    if (usage !== undefined) command.error(usage, { exitCode: EXIT.usage });
    const bar = options.all === true || ids.length > 1 ? progressBar('re-driving') : undefined;
    await withQueue(command, (queue) => dlqRedrive(queue, ids, options, processOutput, bar));
  });

const policy = program.command('policy').description('policy bundles: lint and simulate (records nothing)');

policy
  .command('lint')
  .description("validate a bundle (for the policy repository's CI); exit 1 with file:line:col errors")
  .argument('<bundle-dir>')
  .action((dir: string) => {
    process.exitCode = policyLint(dir, processOutput);
  });

policy
  .command('simulate')
  .description('print the full decision for an engine input; records nothing')
  .argument('<bundle-dir>')
  .argument('<input.json>')
  .option('--trace', "every rule's outcome")
  .action((dir: string, input: string, options: { trace?: boolean }) => {
    process.exitCode = policySimulate(dir, input, options.trace === true, processOutput);
  });

// kafkajs 2.2.4 arms a timer with a negative delay on Node >= 23 (Node clamps it to 1 ms): noise on a terminal.
process.removeAllListeners('warning');
process.on('warning', (warning) => {
  if (warning.name !== 'TimeoutNegativeWarning') process.stderr.write(`${warning.name}: ${warning.message}\n`);
});

program.parseAsync(process.argv).catch((error: unknown) => {
  process.stderr.write(`grantline: ${error instanceof SettingsError ? error.message : describeError(error)}\n`);
  process.exitCode = error instanceof SettingsError ? EXIT.usage : EXIT.refused;
});
