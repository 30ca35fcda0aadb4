// grantline: the operator CLI. `bash scripts/grantline cli <command>` or `npm run grantline -- <command>`.
//   dlq list [--topic T] [--since ISO] [--json]     dead letters not re-driven yet, one per line
//   dlq show <dead-letter-id> [--json]               the reference, the reason, and the original read back (redacted)
//   dlq redrive <id…> | --all [--dry-run]            republish originals this release validates, recorded once
//   policy lint <bundle-dir>                         validate a policy bundle (CI); exit 1 with file:line:col errors
//   policy simulate <bundle-dir> <input.json> [--trace]
//   topics check | retain-forever                   lifecycle topics keep every record (docs/adr/0015); fix older ones
//   evidence --from ISO --to ISO [--format md|json] [--out file] [--bundle DIR]   compliance evidence of a period, linked to its events
//   export --from ISO --to ISO --out DIR --key FILE   evidence bundle of the log (events, signed checkpoints, proofs; ADR 0016)
//   kafka acls --print | --apply [--connector id=service…] [--users FILE [--rotate principal…]]
//                                                    the deployment's principals and ACLs from the catalogue (ADR 0017)
//   verify --bundle DIR [--key FILE]                 offline: an evidence bundle is the signed log, untouched (exit 1 names the first bad record)
//   verify --from-topics --key FILE                  the log on the broker matches every checkpoint the audit signed
//   prove --bundle DIR --event ID [--checkpoint N]   offline: this event is in the log as of the signed checkpoint of size N
//   decision reproduce <decisionId> [--json]         re-run a recorded decision from the log; exit 0 identical, 1 different, 3 not reproducible
//   sod scan [--url URL] [--json]                    detective SoD scan now, through the policy API (token in GRANTLINE_TOKEN)
//   asyncapi [--out FILE]                            the event log's AsyncAPI 3 document, generated from the contracts
// Kafka: KAFKA_BROKERS and KAFKA_TOPIC_NAMESPACE, as the services read them (or --brokers / --namespace).
// The logic lives in tools/cli/src (unit and integration specs); this file only wires the command line.
import { userInfo } from 'node:os';
import { Command, Option } from 'commander';
import { registry } from '@grantline/contracts';
import type { Envelope } from '@grantline/contracts';
import { describeError } from '@grantline/messaging';
import type { MessageBus } from '@grantline/messaging';
import { SettingsError, kafkaSettings, openBus } from './src/connection';
import type { KafkaSettings } from './src/connection';
import { localInfraState, useLocalInfrastructure } from './src/local-infrastructure';
import { DeadLetterQueue } from './src/dlq/dead-letter-queue';
import { EXIT, dlqList, dlqRedrive, dlqShow, redriveUsageError } from './src/dlq/dlq-commands';
import { defaultEvidenceEnvironment, evidenceCommand, evidenceFromBundle, evidenceUsageError } from './src/evidence/evidence-command';
import { EXPORT_EXIT, VERIFY_TOPICS_EXIT, exportCommand, exportUsageError, verifyTopicsCommand } from './src/export/export-command';
import type { ExportOptions } from './src/export/export-command';
import type { EvidenceOptions } from './src/evidence/evidence-command';
import { applyKafkaAcls, kafkaAclPlanFor, kafkaAclsDeps, kafkaAclsUsageError, connectorsOf, printKafkaAcls } from './src/kafka/kafka-acls-command';
import type { KafkaAclsOptions } from './src/kafka/kafka-acls-command';
import { VERIFY_EXIT, proveCommand, verifyCommand } from './src/evidence-bundle/verify-commands';
import { decisionReproduce } from './src/decision/decision-commands';
import { processOutput } from './src/output';
import { asyncApiCommand } from './src/asyncapi/asyncapi-command';
import { policyLint, policySimulate } from './src/policy/policy-commands';
import { progressBar } from './src/progress';
import { sodScan, tokenOf } from './src/sod/sod-commands';
import { topicsCheck, topicsRetainForever, withTopicsAdmin } from './src/topics/topics-commands';

interface GlobalOptions {
  readonly brokers?: string;
  readonly namespace?: string;
  readonly dlqTopic?: string[];
  readonly verbose?: boolean;
}

const operator = (): string => process.env['GRANTLINE_OPERATOR'] ?? userInfo().username;

/** The Kafka settings of a command: the environment's, overridden by --brokers / --namespace. */
function settingsOf(command: Command): KafkaSettings {
  const options = command.optsWithGlobals<GlobalOptions>();
  return kafkaSettings(process.env, {
    ...(options.brokers === undefined ? {} : { brokers: options.brokers }),
    ...(options.namespace === undefined ? {} : { namespace: options.namespace }),
  });
}

/** Where a command reads, as the one line it prints on stderr and evidence packs name. */
const sourceOf = (settings: KafkaSettings): string =>
  `Kafka ${settings.brokers.join(',')}${settings.namespace === undefined ? '' : `, namespace ${settings.namespace}`}`;

/** Runs one command on a bus opened for it (its exit code), and closes the bus whatever happens. */
async function withBus(command: Command, work: (bus: MessageBus, source: string) => Promise<number>): Promise<void> {
  const settings = settingsOf(command);
  const bus = openBus(settings, registry, { verbose: command.optsWithGlobals<GlobalOptions>().verbose === true });
  const source = sourceOf(settings);
  process.stderr.write(`grantline: ${source}\n`);
  try {
    await bus.connect();
    process.exitCode = await work(bus, source);
  } finally {
    await bus.disconnect();
  }
}

/** Runs one dlq command on a bus opened for it, and closes the bus whatever happens. */
function withQueue(command: Command, work: (queue: DeadLetterQueue) => Promise<number>): Promise<void> {
  const options = command.optsWithGlobals<GlobalOptions>();
  return withBus(command, (bus) =>
    work(new DeadLetterQueue(bus, { registry, operator: operator(), ...(options.dlqTopic === undefined ? {} : { deadLetterTopics: options.dlqTopic }) })),
  );
}

// A developer's running local infrastructure is used when no deployment is named (KAFKA_BROKERS unset).
useLocalInfrastructure(process.env, localInfraState());

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

const topics = program.command('topics').description('lifecycle topics: they keep every record (docs/adr/0015)');

topics
  .command('check')
  .description('each lifecycle topic setting that would let Kafka delete records (services refuse to start on them); exit 1 if any')
  .action(async (_options: unknown, command: Command) => {
    process.exitCode = await withTopicsAdmin(command.optsWithGlobals<GlobalOptions>(), processOutput, (admin) => topicsCheck(admin, processOutput));
  });

topics
  .command('retain-forever')
  .description('give every lifecycle topic retention.ms=-1, retention.bytes=-1, cleanup.policy=delete (idempotent); prints what changed')
  .action(async (_options: unknown, command: Command) => {
    process.exitCode = await withTopicsAdmin(command.optsWithGlobals<GlobalOptions>(), processOutput, (admin) => topicsRetainForever(admin, processOutput));
  });

const kafka = program.command('kafka').description('the broker: principals and ACLs derived from the topic catalogue (docs/adr/0017)');

kafka
  .command('acls')
  .description('print, or apply as the bootstrap admin (KAFKA_SASL_USERNAME/PASSWORD), the ACLs (and with --users the SCRAM users) of a deployment')
  .option('--print', 'print the principals and ACLs; connects to nothing')
  .option('--apply', 'apply the ACLs and create the catalogue topics (idempotent)')
  .option('--connector <id=service...>', 'connectors of the deployment (default: postgres=connector-postgres)')
  .option(
    '--users <file>',
    'JSON {"users":{principal:password}}: missing principals get a random password (file written owner-only), all are set on the broker',
  )
  .option('--rotate <principal...>', "replace these principals' passwords (with --users)")
  .action(async (options: KafkaAclsOptions, command: Command) => {
    const usage = kafkaAclsUsageError(options);
    if (usage !== undefined) command.error(usage, { exitCode: EXIT.usage });
    const globals = command.optsWithGlobals<GlobalOptions>();
    const namespace = globals.namespace === undefined || globals.namespace.trim() === '' ? undefined : globals.namespace.trim();
    const plan = kafkaAclPlanFor(options, namespace);
    if (options.print === true) {
      process.exitCode = printKafkaAcls(plan, processOutput);
      return;
    }
    const settings = settingsOf(command);
    process.stderr.write(`grantline: ${sourceOf(settings)}\n`);
    process.exitCode = await applyKafkaAcls(
      options,
      plan,
      process.env,
      kafkaAclsDeps(settings.brokers, settings.namespace, connectorsOf(options)),
      processOutput,
    );
  });

program
  .command('evidence')
  .description('compliance evidence of a period (NIST 800-53 AC-2/5/6, CSF PR.AA, OWASP NHI), each line linked to the events that prove it')
  .requiredOption('--from <iso>', 'start of the period (ISO-8601 with a time zone)')
  .requiredOption('--to <iso>', 'end of the period (at most 366 days after --from)')
  .option('--format <md|json>', 'md or json', 'json')
  .option('--out <file>', 'write the pack to this file instead of stdout')
  .option('--removal-tolerance <duration>', 'how long a removal may take after expiry or disablement (default PT15M)')
  .option('--standing-after <duration>', 'a privileged grant living longer is standing privilege (default P7D)')
  .option('--credential-max-lifetime <duration>', "a credential's maximum lifetime when its policy decision states none (default P1D)")
  .option('--bundle <dir>', 'read an evidence bundle (grantline export) instead of the topics: offline, only what the bundle holds')
  .action(async (options: EvidenceOptions & { bundle?: string }, command: Command) => {
    const usage = evidenceUsageError(options);
    if (usage !== undefined) command.error(usage, { exitCode: EXIT.usage });
    if (options.bundle !== undefined) {
      const { now, writeFile } = defaultEvidenceEnvironment('');
      process.exitCode = evidenceFromBundle(options.bundle, options, processOutput, { now, writeFile }, progressBar('reading the bundle'));
      return;
    }
    await withBus(command, (bus, source) => evidenceCommand(bus, options, processOutput, defaultEvidenceEnvironment(source), progressBar('reading the log')));
  });

program
  .command('export')
  .description("evidence bundle of a period, read from the topics: records with inclusion proofs, the audit's signed checkpoints, the key")
  .requiredOption('--from <iso>', "start of the period (ISO-8601 with a time zone; by the records' log timestamps)")
  .requiredOption('--to <iso>', 'end of the period')
  .requiredOption('--out <dir>', 'directory to write the bundle into')
  .requiredOption('--key <file>', "the checkpoint signer's verifier key: a C2SP vkey file or a PEM (GET /v1/audit/log/key)")
  .option('--key-name <name>', 'the note key name (with a PEM; default grantline-audit)')
  .action(async (options: ExportOptions, command: Command) => {
    const usage = exportUsageError(options);
    if (usage !== undefined) command.error(usage, { exitCode: EXPORT_EXIT.usage });
    await withBus(command, (bus) => exportCommand(bus, options, processOutput, progressBar('reading the log')));
  });

program
  .command('verify')
  .description(
    'verify an evidence bundle offline (signatures, consistency, every record in its tree, nothing missing), or with --from-topics the log on the broker against the signed checkpoints; exit 0 clean, 1 tampered, 2 usage',
  )
  .option('--bundle <dir>', 'the evidence bundle directory')
  .option('--from-topics', "read the lifecycle topics themselves (needs --key: the audit's verifier key)")
  .option(
    '--key <file>',
    "the log signer's trusted key (C2SP .vkey or Ed25519 public key PEM); default for a bundle: the bundle's own, which proves internal consistency only",
  )
  .option('--key-name <name>', 'the note key name (with a PEM; default grantline-audit)')
  .action(async (options: { bundle?: string; fromTopics?: boolean; key?: string; keyName?: string }, command: Command) => {
    if (options.fromTopics === true) {
      if (options.bundle !== undefined) command.error('--from-topics and --bundle exclude each other', { exitCode: VERIFY_TOPICS_EXIT.usage });
      if (options.key === undefined)
        command.error('--from-topics needs --key <file>: the key the audit signs checkpoints with', { exitCode: VERIFY_TOPICS_EXIT.usage });
      const key = options.key;
      await withBus(command, (bus) =>
        verifyTopicsCommand(
          bus,
          { key, ...(options.keyName === undefined ? {} : { keyName: options.keyName }) },
          processOutput,
          progressBar('reading the log'),
        ),
      );
      return;
    }
    if (options.bundle === undefined) command.error('--bundle <dir> (or --from-topics) is required', { exitCode: VERIFY_EXIT.usage });
    process.exitCode = verifyCommand({ bundle: options.bundle, ...(options.key === undefined ? {} : { key: options.key }) }, processOutput, {
      progress: progressBar('verifying'),
    });
  });

program
  .command('prove')
  .description('offline: prove one event is in the log as of a signed checkpoint; exit 0 proven, 1 not, 2 usage')
  .option('--bundle <dir>', 'the evidence bundle directory')
  .option('--event <id>', 'the CloudEvent id')
  .option('--checkpoint <size>', 'the checkpoint (tree size) to prove inclusion in; default: the first that includes the event')
  .option('--key <file>', "the log signer's trusted key (C2SP .vkey or Ed25519 public key PEM)")
  .action((options: { bundle?: string; event?: string; checkpoint?: string; key?: string }, command: Command) => {
    if (options.bundle === undefined || options.event === undefined)
      command.error('--bundle <dir> and --event <id> are required', { exitCode: VERIFY_EXIT.usage });
    process.exitCode = proveCommand({ ...options, bundle: options.bundle, event: options.event }, processOutput);
  });

const decision = program.command('decision').description('recorded policy decisions (docs/adr/0021)');

decision
  .command('reproduce')
  .description(
    'read a recorded decision and the bundle it names from the log, re-evaluate, compare field by field; exit 0 identical, 1 different, 2 not on the log, 3 not reproducible (recorded before v2, refused before evaluation, bundle missing)',
  )
  .argument('<decisionId>', 'the decision id (or the event id of its record)')
  .option('--json', 'machine-readable')
  .action(async (decisionId: string, options: { json?: boolean }, command: Command) => {
    await withBus(command, async (bus) =>
      decisionReproduce(
        async (topics) => {
          const existing = new Set(await bus.listTopics());
          const present = topics.filter((topic) => existing.has(topic));
          const events: Envelope[] = [];
          if (present.length > 0) await bus.replay({ topics: present, handler: async (event) => void events.push(event) });
          return events;
        },
        decisionId,
        options,
        processOutput,
      ),
    );
  });

program
  .command('sod')
  .description('separation of duties, detective: scans run by the policy service')
  .command('scan')
  .description(
    'run the detective SoD scan now (POST /v1/sod/scans as the holder of GRANTLINE_TOKEN: security or admin); exit 0 clean, 1 violations, 2 usage, 3 refused',
  )
  .option('--url <url>', 'the policy service (default GRANTLINE_POLICY_URL, else http://127.0.0.1:3102)')
  .option('--json', 'the service answer as is')
  .action(async (options: { url?: string; json?: boolean }) => {
    const url = options.url ?? process.env['GRANTLINE_POLICY_URL'];
    process.exitCode = await sodScan({ ...options, ...(url === undefined ? {} : { url }) }, tokenOf(process.env), processOutput);
  });

program
  .command('asyncapi')
  .description("the event log's AsyncAPI 3 document (topics, event types and their schemas), as the gateway serves it at /asyncapi.json")
  .option('--out <file>', 'write it to a file instead of stdout')
  .action((options: { out?: string }) => {
    process.exitCode = asyncApiCommand(options, processOutput);
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
