import { LIFECYCLE_TOPIC_CONFIG, RETENTION_SETTINGS, requiredTopicConfig } from '@grantline/contracts';
import type { RetentionSetting } from '@grantline/contracts';

/** One setting of one lifecycle topic that lets the broker remove records (docs/adr/0015). */
export interface TopicRetentionProblem {
  /** The catalogue's name. */
  readonly topic: string;
  /** The name on the cluster (with the namespace): what an operator types. */
  readonly clusterTopic: string;
  readonly setting: RetentionSetting;
  /** Undefined when the broker did not report the setting (then it is not known to be safe). */
  readonly actual: string | undefined;
  readonly required: string;
}

/** What a setting's value means for the records, in an operator's words. */
function consequence(setting: RetentionSetting, actual: string | undefined): string {
  if (actual === undefined) return 'not reported by the broker';
  switch (setting) {
    case 'retention.ms':
      return `records older than ${formatMs(Number(actual))} are deleted`;
    case 'retention.bytes':
      return `the oldest records are deleted once a partition holds ${actual} bytes`;
    case 'cleanup.policy':
      return actual.includes('compact') ? 'compaction keeps only the latest record of each key' : 'not a delete-only policy';
  }
}

function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return 'an unreadable age';
  const day = 86_400_000;
  if (ms >= day && ms % day === 0) return `${ms / day} d`;
  if (ms >= 3_600_000 && ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  return `${ms} ms`;
}

function satisfies(setting: RetentionSetting, actual: string | undefined, required: string): boolean {
  if (actual === undefined) return false;
  // -1 is the only value that disables a limit; Kafka reads numbers, so "-1" and " -1" mean the same.
  if (setting === 'cleanup.policy') return actual.trim() === required;
  return actual.trim() !== '' && Number(actual) === Number(required);
}

/**
 * The settings of a topic (its effective values, as `describeConfigs` reports them) that would let Kafka remove
 * records from it. Empty for a topic the catalogue sets nothing for, and for a lifecycle topic that keeps everything.
 */
export function retentionProblems(topic: string, clusterTopic: string, effective: ReadonlyMap<string, string | undefined>): TopicRetentionProblem[] {
  const required = requiredTopicConfig(topic);
  if (required === undefined) return [];
  return RETENTION_SETTINGS.filter((setting) => !satisfies(setting, effective.get(setting), required[setting])).map((setting) => ({
    topic,
    clusterTopic,
    setting,
    actual: effective.get(setting),
    required: required[setting],
  }));
}

/** `kafka-configs.sh --add-config` value setting every lifecycle setting at once. */
const ADD_CONFIG = RETENTION_SETTINGS.map((setting) => `${setting}=${LIFECYCLE_TOPIC_CONFIG[setting]}`).join(',');

/**
 * A lifecycle topic would lose records: thrown by `ensureTopics`, so a service refuses to start on it (the log is the
 * evidence and its state is rebuilt from it; a week-old grant's expiry timer must still be there after a restart).
 * The message names each topic and setting, and how to fix them.
 */
export class TopicRetentionError extends Error {
  override readonly name = 'TopicRetentionError';

  constructor(
    readonly problems: readonly TopicRetentionProblem[],
    namespace?: string,
  ) {
    const lines = problems.map(
      (p) => `  ${p.clusterTopic}: ${p.setting}=${p.actual ?? '(unknown)'} (${consequence(p.setting, p.actual)}); required ${p.setting}=${p.required}`,
    );
    const topics = [...new Set(problems.map((p) => p.clusterTopic))];
    super(
      [
        `lifecycle topics must keep every record (docs/adr/0015-retention-and-erasure.md); ${problems.length} setting(s) would let Kafka delete the log:`,
        ...lines,
        `fix: grantline topics retain-forever${namespace === undefined ? '' : ` --namespace ${namespace}`}` +
          ` (or, per topic: kafka-configs.sh --bootstrap-server <broker> --alter --entity-type topics --entity-name ${topics[0] ?? '<topic>'} --add-config ${ADD_CONFIG})`,
      ].join('\n'),
    );
  }
}

/**
 * The configuration to create a topic with: the caller's entries plus the catalogue's retention settings. A caller
 * asking for other values of those settings on a lifecycle topic is refused, naming the topic and the setting.
 */
export function creationConfig(topic: string, entries: Readonly<Record<string, string>> = {}): Record<string, string> {
  const required = requiredTopicConfig(topic);
  if (required === undefined) return { ...entries };
  for (const setting of RETENTION_SETTINGS) {
    const asked = entries[setting];
    if (asked !== undefined && !satisfies(setting, asked, required[setting])) {
      throw new Error(`${topic} is a lifecycle topic: ${setting}=${asked} is refused, it must be ${required[setting]} (docs/adr/0015)`);
    }
  }
  return { ...entries, ...required };
}
