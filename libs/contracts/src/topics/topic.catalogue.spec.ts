import { ContractViolationError } from '../errors/contract-violation.error';
import {
  CONNECTOR_ID_PLACEHOLDER,
  TOPIC_OWNERS,
  TOPICS,
  connectorCommandsTopic,
  connectorIdOfTopic,
  connectorResultsTopic,
  isCatalogueTopic,
  ownerOfTopic,
} from './topic.catalogue';

describe('topic catalogue', () => {
  it('given every fixed topic, then its name carries a contract version and an owner is declared', () => {
    for (const [key, topic] of Object.entries(TOPICS)) {
      expect(topic).toMatch(/^iga\.[a-z.-]+\.v[1-9]\d*$/);
      expect(TOPIC_OWNERS[key as keyof typeof TOPICS]).toMatch(/^[a-z-]+$/);
    }
  });

  it('given the fixed topics, then no two keys share a topic name', () => {
    expect(new Set(Object.values(TOPICS)).size).toBe(Object.keys(TOPICS).length);
  });

  it('given a connector id, when building its topics, then commands and results are distinct per connector', () => {
    expect(connectorCommandsTopic('postgres-orders')).toBe('iga.connectors.postgres-orders.commands.v1');
    expect(connectorResultsTopic('postgres-orders')).toBe('iga.connectors.postgres-orders.results.v1');
    expect(connectorIdOfTopic('iga.connectors.ldap.results.v1')).toBe('ldap');
    expect(connectorIdOfTopic(connectorCommandsTopic(CONNECTOR_ID_PLACEHOLDER))).toBe(CONNECTOR_ID_PLACEHOLDER);
  });

  it.each(['', 'Postgres', 'pg.main', 'a b', '-pg'])('given the connector id %p, when building a topic, then it is rejected', (connectorId) => {
    expect(() => connectorCommandsTopic(connectorId)).toThrow(ContractViolationError);
  });

  it('given topics outside the catalogue, then they have no owner', () => {
    expect(ownerOfTopic('iga.requests.v2')).toBeUndefined();
    expect(ownerOfTopic('iga.connectors.pg.main.commands.v1')).toBeUndefined();
    expect(isCatalogueTopic('orders')).toBe(false);
    expect(isCatalogueTopic(TOPICS.deadLetter)).toBe(true);
  });

  it('given a connector results topic, then only that connector owns it', () => {
    expect(ownerOfTopic(connectorResultsTopic('ldap'))).toBe('connector:ldap');
    expect(ownerOfTopic(connectorCommandsTopic('ldap'))).toBe('provisioning');
  });
});
