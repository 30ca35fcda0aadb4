import type { RetentionChange, TopicRetentionProblem } from '@grantline/messaging';
import { bufferedOutput } from '../output';
import { topicsCheck, topicsRetainForever } from './topics-commands';
import type { TopicsAdmin } from './topics-commands';

const grantsWeek: TopicRetentionProblem = {
  topic: 'iga.grants.v1',
  clusterTopic: 'local.iga.grants.v1',
  setting: 'retention.ms',
  actual: '604800000',
  required: '-1',
};

/** A cluster whose listed problems go away once retain-forever ran (or never, with `stubborn`). */
function fakeAdmin(problems: TopicRetentionProblem[], options: { stubborn?: boolean } = {}): TopicsAdmin & { asked: (readonly string[] | undefined)[] } {
  let left = problems;
  const asked: (readonly string[] | undefined)[] = [];
  return {
    asked,
    listTopics: async () => ['iga.grants.v1', 'iga.requests.v1', 'spec-topic'],
    topicRetentionProblems: async (topics) => {
      asked.push(topics);
      return left;
    },
    retainTopicsForever: async (): Promise<RetentionChange[]> => {
      const changes = [...new Set(left.map((p) => p.clusterTopic))].map((clusterTopic) => ({
        topic: clusterTopic.replace(/^local\./, ''),
        clusterTopic,
        changed: left.filter((p) => p.clusterTopic === clusterTopic).map((p) => ({ setting: p.setting, from: p.actual, to: p.required })),
      }));
      if (options.stubborn !== true) left = [];
      return changes;
    },
  };
}

describe('grantline topics', () => {
  it('given lifecycle topics that keep everything, when checking, then it says so and exits 0, looking at lifecycle topics only', async () => {
    const io = bufferedOutput();
    const admin = fakeAdmin([]);
    expect(await topicsCheck(admin, io)).toBe(0);
    expect(io.stdout()).toBe('2 lifecycle topic(s) keep every record\n');
    expect(admin.asked).toEqual([['iga.grants.v1', 'iga.requests.v1']]);
  });

  it('given a topic with 7 days of retention, when checking, then the topic and setting are named, the fix given, exit 1', async () => {
    const io = bufferedOutput();
    expect(await topicsCheck(fakeAdmin([grantsWeek]), io)).toBe(1);
    expect(io.stdout()).toBe('local.iga.grants.v1  retention.ms=604800000  required -1\n');
    expect(io.stderr()).toContain('1 of 2 lifecycle topic(s) would let Kafka delete records; fix with: grantline topics retain-forever');
  });

  it('given a topic with 7 days of retention, when retaining forever, then it prints the change and exits 0; a second run changes nothing', async () => {
    const admin = fakeAdmin([grantsWeek]);
    const first = bufferedOutput();
    expect(await topicsRetainForever(admin, first)).toBe(0);
    expect(first.stdout()).toBe('local.iga.grants.v1: retention.ms 604800000 -> -1\nchanged 1 of 2 lifecycle topic(s); the others already kept every record\n');
    const second = bufferedOutput();
    expect(await topicsRetainForever(admin, second)).toBe(0);
    expect(second.stdout()).toBe('changed 0 of 2 lifecycle topic(s); the others already kept every record\n');
  });

  it('given a setting the alteration did not fix, when retaining forever, then it is named and the exit is 1', async () => {
    const io = bufferedOutput();
    expect(await topicsRetainForever(fakeAdmin([grantsWeek], { stubborn: true }), io)).toBe(1);
    expect(io.stderr()).toBe('still not keeping every record:\nlocal.iga.grants.v1  retention.ms=604800000  required -1\n');
  });
});
