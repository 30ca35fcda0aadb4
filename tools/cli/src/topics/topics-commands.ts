import { isLifecycleTopic, registry } from '@grantline/contracts';
import type { RetentionChange, TopicRetentionProblem } from '@grantline/messaging';
import { kafkaSettings, openBus } from '../connection';
import type { KafkaOverrides } from '../connection';
import { EXIT } from '../dlq/dlq-commands';
import type { Output } from '../output';

/** What the topics commands need of the bus (KafkaMessageBus; a fake in unit specs). */
export interface TopicsAdmin {
  listTopics(): Promise<string[]>;
  topicRetentionProblems(topics?: readonly string[]): Promise<TopicRetentionProblem[]>;
  retainTopicsForever(topics?: readonly string[]): Promise<RetentionChange[]>;
}

function problemLines(problems: readonly TopicRetentionProblem[]): string {
  return problems.map((p) => `${p.clusterTopic}  ${p.setting}=${p.actual ?? '(not reported)'}  required ${p.required}\n`).join('');
}

/**
 * `topics check`: every lifecycle topic of the namespace keeps every record, or each setting that does not, one per
 * line. Exit 1 when any (the services refuse to start on those topics).
 */
export async function topicsCheck(admin: TopicsAdmin, io: Output): Promise<number> {
  const lifecycle = (await admin.listTopics()).filter(isLifecycleTopic);
  const problems = await admin.topicRetentionProblems(lifecycle);
  if (problems.length === 0) {
    io.out(`${lifecycle.length} lifecycle topic(s) keep every record\n`);
    return EXIT.ok;
  }
  const topics = new Set(problems.map((p) => p.clusterTopic)).size;
  io.out(problemLines(problems));
  io.err(`${topics} of ${lifecycle.length} lifecycle topic(s) would let Kafka delete records; fix with: grantline topics retain-forever\n`);
  return EXIT.refused;
}

/**
 * `topics retain-forever`: gives every lifecycle topic of the namespace the catalogue's retention settings (keeping
 * its other settings), prints what changed, then checks again. Idempotent: a second run changes nothing.
 */
export async function topicsRetainForever(admin: TopicsAdmin, io: Output): Promise<number> {
  const lifecycle = (await admin.listTopics()).filter(isLifecycleTopic);
  const changes = await admin.retainTopicsForever(lifecycle);
  for (const change of changes) {
    const settings = change.changed.map((c) => `${c.setting} ${c.from ?? '(inherited)'} -> ${c.to}`).join(', ');
    io.out(`${change.clusterTopic}: ${settings}\n`);
  }
  io.out(
    `changed ${changes.length} of ${lifecycle.length} lifecycle topic(s)${changes.length < lifecycle.length ? '; the others already kept every record' : ''}\n`,
  );
  const left = await admin.topicRetentionProblems(lifecycle);
  if (left.length === 0) return EXIT.ok;
  io.err(`still not keeping every record:\n${problemLines(left)}`);
  return EXIT.refused;
}

/** Runs one topics command on a bus opened for it (settings as the services read them), and closes the bus. */
export async function withTopicsAdmin(
  overrides: KafkaOverrides & { readonly verbose?: boolean },
  io: Output,
  work: (admin: TopicsAdmin) => Promise<number>,
): Promise<number> {
  const settings = kafkaSettings(process.env, {
    ...(overrides.brokers === undefined ? {} : { brokers: overrides.brokers }),
    ...(overrides.namespace === undefined ? {} : { namespace: overrides.namespace }),
  });
  const bus = openBus(settings, registry, { verbose: overrides.verbose === true });
  io.err(`grantline: Kafka ${settings.brokers.join(',')}${settings.namespace === undefined ? '' : `, namespace ${settings.namespace}`}\n`);
  try {
    await bus.connect();
    return await work(bus);
  } finally {
    await bus.disconnect();
  }
}
