import { TOPIC_OWNERS, TOPIC_READERS, TOPICS, connectorCommandsTopic, connectorResultsTopic } from '@grantline/contracts';
import type { TopicKey } from '@grantline/contracts';
import { LOCAL_CONNECTORS, LOCAL_KAFKA_PRINCIPALS } from '@grantline/testing';
import {
  KAFKA_ACL_CONNECTOR_SERVICE,
  KAFKA_ACL_MANAGED_PREFIX,
  KAFKA_CLUSTER_RESOURCE,
  catalogueServices,
  connectorPrincipal,
  describeAclBinding,
  isSharedAcrossNamespaces,
  kafkaAclPlan,
} from './kafka-acl-plan';
import type { AclBinding, AclOperation } from './kafka-acl-plan';

const connectors = [
  { id: 'pg-main', service: 'connector-postgres' },
  { id: 'ldap-hr', service: 'connector-ldap' },
];

function principalsAllowed(bindings: readonly AclBinding[], operation: AclOperation, topic: string): string[] {
  return bindings
    .filter((b) => b.resourceType === 'topic' && b.patternType === 'literal' && b.resourceName === topic && b.operation === operation)
    .map((b) => b.principal)
    .sort();
}

function topicsAllowed(bindings: readonly AclBinding[], principal: string, operation: AclOperation): string[] {
  return bindings
    .filter((b) => b.principal === `User:${principal}` && b.resourceType === 'topic' && b.operation === operation)
    .map((b) => b.resourceName)
    .sort();
}

describe('kafkaAclPlan', () => {
  const { principals, bindings } = kafkaAclPlan({ connectors });
  const keys = Object.keys(TOPICS) as TopicKey[];
  const services = catalogueServices();

  it('names one user per service, per connector and per upstream, never the library pseudo-owner', () => {
    expect(services).toEqual(['approval', 'audit', 'intake', 'notifier', 'policy', 'provisioning', 'scheduler']);
    expect(principals.map((p) => `${p.kind}:${p.name}`)).toEqual([
      ...services.map((s) => `service:${s}`),
      'connector:connector:ldap-hr',
      'connector:connector:pg-main',
      'upstream:itsm-upstream',
    ]);
  });

  it('lets only the owner write each catalogue topic (the dead-letter topic: every service and connector)', () => {
    for (const key of keys.filter((k) => k !== 'deadLetter')) {
      expect({ topic: TOPICS[key], writers: principalsAllowed(bindings, 'write', TOPICS[key]) }).toEqual({
        topic: TOPICS[key],
        writers: [`User:${TOPIC_OWNERS[key]}`],
      });
    }
    expect(principalsAllowed(bindings, 'write', TOPICS.deadLetter)).toEqual(
      [...services.map((s) => `User:${s}`), `User:${connectorPrincipal('ldap-hr')}`, `User:${connectorPrincipal('pg-main')}`].sort(),
    );
  });

  it('refuses intake the approvals topic: a forged request-approved cannot be written', () => {
    expect(topicsAllowed(bindings, 'intake', 'write')).not.toContain(TOPICS.approvals);
    expect(principalsAllowed(bindings, 'write', TOPICS.approvals)).toEqual(['User:approval']);
  });

  it('lets exactly the owner and the catalogue readers read (and describe the configuration of) each topic', () => {
    for (const key of keys) {
      const expected = [...new Set([TOPIC_OWNERS[key], ...TOPIC_READERS[key]])]
        .filter((name) => name !== 'messaging' && name !== 'itsm-upstream')
        .map((name) => `User:${name}`);
      if (TOPIC_READERS[key].includes('itsm-upstream')) expected.push('User:itsm-upstream');
      expect({ topic: TOPICS[key], readers: principalsAllowed(bindings, 'read', TOPICS[key]) }).toEqual({ topic: TOPICS[key], readers: expected.sort() });
      for (const reader of principalsAllowed(bindings, 'read', TOPICS[key])) {
        expect(principalsAllowed(bindings, 'describe', TOPICS[key])).toContain(reader);
        expect(principalsAllowed(bindings, 'describe-configs', TOPICS[key])).toContain(reader);
      }
    }
  });

  it('lets a connector read only its own command topic and write only its own results topic', () => {
    expect(topicsAllowed(bindings, connectorPrincipal('pg-main'), 'read')).toEqual(
      [connectorCommandsTopic('pg-main'), connectorResultsTopic('pg-main')].sort(),
    );
    expect(topicsAllowed(bindings, connectorPrincipal('pg-main'), 'write')).toEqual([TOPICS.deadLetter, connectorResultsTopic('pg-main')].sort());
    expect(principalsAllowed(bindings, 'read', connectorCommandsTopic('ldap-hr'))).toEqual([
      'User:audit',
      `User:${connectorPrincipal('ldap-hr')}`,
      'User:provisioning',
    ]);
    expect(principalsAllowed(bindings, 'write', connectorCommandsTopic('pg-main'))).toEqual(['User:provisioning']);
    expect(principalsAllowed(bindings, 'write', connectorResultsTopic('pg-main'))).toEqual([`User:${connectorPrincipal('pg-main')}`]);
  });

  it('lets the ITSM bridge write only the inbound topic', () => {
    expect(topicsAllowed(bindings, 'itsm-upstream', 'write')).toEqual([TOPICS.itsmInbound]);
  });

  it('gives each principal only its own consumer groups and transactional ids', () => {
    const own = (principal: string, name: string): boolean => {
      const service =
        principal === connectorPrincipal('pg-main') ? 'connector-postgres' : principal === connectorPrincipal('ldap-hr') ? 'connector-ldap' : principal;
      return [service, `${service}-`, `replay.${service}.`, `read.${service}.`, `grantline.lease.${service}`].some((prefix) => name.startsWith(prefix));
    };
    const groupBindings = bindings.filter((b) => b.resourceType !== 'topic');
    expect(groupBindings.length).toBeGreaterThan(0);
    for (const binding of groupBindings) {
      const principal = binding.principal.slice('User:'.length);
      expect({ binding: describeAclBinding(binding), own: own(principal, binding.resourceName) }).toEqual({ binding: describeAclBinding(binding), own: true });
    }
    expect(groupBindings.filter((b) => b.resourceName.startsWith('connector-postgres-pg-main')).map((b) => b.principal)).toEqual(
      expect.arrayContaining([`User:${connectorPrincipal('pg-main')}`]),
    );
    expect(groupBindings.some((b) => b.principal === `User:${connectorPrincipal('ldap-hr')}` && b.resourceName.startsWith('connector-postgres'))).toBe(false);
    // a prefixed group ACL must end at a separator, or "policy" would also cover "policy-backtest"
    for (const binding of groupBindings.filter((b) => b.patternType === 'prefixed')) expect(binding.resourceName).toMatch(/\.$/);
  });

  it('grants nothing on the cluster and nothing for all topics (no wildcard, no prefixed topic ACL)', () => {
    expect(bindings.filter((b) => b.resourceType === 'topic' && b.patternType !== 'literal')).toEqual([]);
    expect(bindings.filter((b) => b.resourceName === '*' || b.resourceName === '')).toEqual([]);
  });

  it('gives the Kafka ACL connector ALTER and DESCRIBE on the cluster and DESCRIBE on the managed topics, and nobody else anything there', () => {
    const withAclConnector = kafkaAclPlan({ connectors: [...connectors, { id: 'kafka-acl', service: KAFKA_ACL_CONNECTOR_SERVICE }], namespace: 'e2e-run1' });
    const outsideNamespace = withAclConnector.bindings.filter((b) => isSharedAcrossNamespaces(b, 'e2e-run1'));
    expect(outsideNamespace).toEqual([
      { principal: 'User:connector:kafka-acl', resourceType: 'cluster', resourceName: KAFKA_CLUSTER_RESOURCE, patternType: 'literal', operation: 'alter' },
      { principal: 'User:connector:kafka-acl', resourceType: 'cluster', resourceName: KAFKA_CLUSTER_RESOURCE, patternType: 'literal', operation: 'describe' },
      { principal: 'User:connector:kafka-acl', resourceType: 'topic', resourceName: KAFKA_ACL_MANAGED_PREFIX, patternType: 'prefixed', operation: 'describe' },
    ]);
    // no read or write on a managed topic: the connector grants access, it never uses it
    expect(topicsAllowed(withAclConnector.bindings, connectorPrincipal('kafka-acl'), 'write')).toEqual(
      [`e2e-run1.${TOPICS.deadLetter}`, `e2e-run1.${connectorResultsTopic('kafka-acl')}`].sort(),
    );
  });

  it('puts the same ACLs on the prefixed names of a namespace', () => {
    const namespaced = kafkaAclPlan({ connectors, namespace: 'e2e-run1' });
    expect(namespaced.bindings).toHaveLength(bindings.length);
    for (const [i, binding] of namespaced.bindings.entries()) {
      expect(binding).toEqual({ ...bindings[i], resourceName: `e2e-run1.${bindings[i]?.resourceName ?? ''}` });
    }
  });

  it('is the same for the same input and has no duplicate binding', () => {
    expect(kafkaAclPlan({ connectors: [...connectors].reverse() })).toEqual(kafkaAclPlan({ connectors }));
    expect(new Set(bindings.map(describeAclBinding)).size).toBe(bindings.length);
  });

  it('refuses a connector listed twice and an invalid connector id, naming it', () => {
    expect(() => kafkaAclPlan({ connectors: [connectors[0]!, connectors[0]!] })).toThrow(/"pg-main" is listed twice/);
    expect(() => kafkaAclPlan({ connectors: [{ id: 'Bad.Id', service: 'connector-x' }] })).toThrow(/Bad\.Id/);
    expect(() => kafkaAclPlan({ namespace: 'Bad Space' })).toThrow(/Bad Space/);
  });

  it("matches the harness's list of local principals (the users it creates for npm start and the e2e platforms)", () => {
    expect([...LOCAL_KAFKA_PRINCIPALS].sort()).toEqual(
      kafkaAclPlan({ connectors: LOCAL_CONNECTORS })
        .principals.map((p) => p.name)
        .sort(),
    );
  });
});
