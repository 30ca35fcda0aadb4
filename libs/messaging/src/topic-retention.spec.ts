import { TOPICS, connectorResultsTopic } from '@grantline/contracts';
import { TopicRetentionError, creationConfig, retentionProblems } from './topic-retention';

const keepsEverything = (): Map<string, string | undefined> =>
  new Map([
    ['retention.ms', '-1'],
    ['retention.bytes', '-1'],
    ['cleanup.policy', 'delete'],
  ]);

describe('lifecycle topic retention', () => {
  it('given a lifecycle topic that keeps everything, then there is no problem', () => {
    expect(retentionProblems(TOPICS.grants, `ns.${TOPICS.grants}`, keepsEverything())).toEqual([]);
  });

  it('given the broker default of 7 days, then retention.ms is named with its value and the required one', () => {
    const config = keepsEverything().set('retention.ms', '604800000');
    expect(retentionProblems(TOPICS.schedule, `ns.${TOPICS.schedule}`, config)).toEqual([
      { topic: TOPICS.schedule, clusterTopic: `ns.${TOPICS.schedule}`, setting: 'retention.ms', actual: '604800000', required: '-1' },
    ]);
  });

  it.each([
    ['retention.bytes', '1073741824'],
    ['cleanup.policy', 'compact'],
    ['cleanup.policy', 'compact,delete'],
    ['cleanup.policy', 'delete,compact'],
    ['retention.ms', '0'],
    ['retention.ms', ''],
  ])('given %s=%p on a lifecycle topic, then it is a problem', (setting, value) => {
    const problems = retentionProblems(TOPICS.requests, TOPICS.requests, keepsEverything().set(setting, value));
    expect(problems.map((p) => [p.setting, p.actual])).toEqual([[setting, value]]);
  });

  it('given settings the broker did not report, then they are problems (not known to be safe)', () => {
    const problems = retentionProblems(connectorResultsTopic('ldap'), connectorResultsTopic('ldap'), new Map());
    expect(problems.map((p) => p.setting)).toEqual(['retention.ms', 'retention.bytes', 'cleanup.policy']);
  });

  it('given a topic outside the catalogue, then its settings are not looked at', () => {
    expect(retentionProblems('spec-topic', 'spec-topic', new Map([['retention.ms', '1000']]))).toEqual([]);
  });

  it('given problems, then the error names each topic on the cluster, the setting, what it does and the fix', () => {
    const problems = [
      ...retentionProblems(TOPICS.grants, `local.${TOPICS.grants}`, keepsEverything().set('retention.ms', '604800000')),
      ...retentionProblems(TOPICS.catalog, `local.${TOPICS.catalog}`, keepsEverything().set('cleanup.policy', 'compact')),
    ];
    const error = new TopicRetentionError(problems, 'local');
    expect(error.problems).toHaveLength(2);
    expect(error.message).toContain('local.iga.grants.v1: retention.ms=604800000 (records older than 7 d are deleted); required retention.ms=-1');
    expect(error.message).toContain(
      'local.iga.catalog.v1: cleanup.policy=compact (compaction keeps only the latest record of each key); required cleanup.policy=delete',
    );
    expect(error.message).toContain('grantline topics retain-forever --namespace local');
    expect(error.message).toContain('--add-config retention.ms=-1,retention.bytes=-1,cleanup.policy=delete');
  });

  it('given a lifecycle topic to create, then it is created keeping everything, beside the caller entries', () => {
    expect(creationConfig(TOPICS.approvals, { 'max.message.bytes': '2097152' })).toEqual({
      'max.message.bytes': '2097152',
      'retention.ms': '-1',
      'retention.bytes': '-1',
      'cleanup.policy': 'delete',
    });
    expect(creationConfig('spec-topic', { 'retention.ms': '1000' })).toEqual({ 'retention.ms': '1000' });
  });

  it('given a caller asking a lifecycle topic for finite retention or compaction, then creation is refused naming the setting', () => {
    expect(() => creationConfig(TOPICS.requests, { 'retention.ms': '604800000' })).toThrow(
      'iga.requests.v1 is a lifecycle topic: retention.ms=604800000 is refused, it must be -1',
    );
    expect(() => creationConfig(TOPICS.requests, { 'cleanup.policy': 'compact' })).toThrow('cleanup.policy=compact is refused');
  });
});
