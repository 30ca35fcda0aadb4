import { CONNECTOR_ID_PLACEHOLDER, TOPICS, connectorCommandsTopic, connectorResultsTopic } from './topic.catalogue';
import { LIFECYCLE_TOPIC_CONFIG, isLifecycleTopic, requiredTopicConfig } from './topic-retention';

describe('topic retention policy', () => {
  it('given every fixed catalogue topic, then it keeps every record forever and is never compacted', () => {
    for (const topic of Object.values(TOPICS)) {
      expect(requiredTopicConfig(topic)).toEqual({ 'retention.ms': '-1', 'retention.bytes': '-1', 'cleanup.policy': 'delete' });
    }
  });

  it('given the connector topics, then commands and results are lifecycle topics too', () => {
    expect(isLifecycleTopic(connectorCommandsTopic('ldap'))).toBe(true);
    expect(isLifecycleTopic(connectorResultsTopic('ldap'))).toBe(true);
    expect(isLifecycleTopic(connectorCommandsTopic(CONNECTOR_ID_PLACEHOLDER))).toBe(true);
  });

  it('given topics outside the catalogue, then the catalogue sets nothing for them', () => {
    expect(requiredTopicConfig('grantline.lease.scheduler')).toBeUndefined();
    expect(requiredTopicConfig('iga.requests.v2')).toBeUndefined();
    expect(requiredTopicConfig('spec-topic-1')).toBeUndefined();
  });

  it('given the policy, then no setting lets a record be removed', () => {
    expect(Number(LIFECYCLE_TOPIC_CONFIG['retention.ms'])).toBe(-1);
    expect(Number(LIFECYCLE_TOPIC_CONFIG['retention.bytes'])).toBe(-1);
    expect(LIFECYCLE_TOPIC_CONFIG['cleanup.policy']).not.toContain('compact');
  });
});
