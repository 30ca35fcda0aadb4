import { ContractViolationError } from '../errors/contract-violation.error';

/** Every fixed topic, each carrying the contract version in its name. */
export const TOPICS = {
  requests: 'iga.requests.v1',
  identities: 'iga.identities.v1',
  catalog: 'iga.catalog.v1',
  policyBundles: 'iga.policy-bundles.v1',
  decisions: 'iga.decisions.v1',
  approvals: 'iga.approvals.v1',
  grants: 'iga.grants.v1',
  schedule: 'iga.schedule.v1',
  audit: 'iga.audit.v1',
  notifications: 'iga.notifications.v1',
  itsmInbound: 'iga.itsm.inbound.v1',
  itsmStatus: 'iga.itsm.status.v1',
  deadLetter: 'iga.dead-letter.v1',
} as const;

export type TopicKey = keyof typeof TOPICS;
export type ConnectorCommandsTopic = `iga.connectors.${string}.commands.v1`;
export type ConnectorResultsTopic = `iga.connectors.${string}.results.v1`;
export type TopicName = (typeof TOPICS)[TopicKey] | ConnectorCommandsTopic | ConnectorResultsTopic;

/**
 * The single writer of each topic. Kafka ACLs are derived from this table, so a second writer is a
 * contract change, not a code change. `messaging` is the transport library that every service embeds:
 * it alone dead-letters poison messages. `itsm-upstream` is the external ITSM bridge.
 */
export const TOPIC_OWNERS: Record<TopicKey, string> = {
  requests: 'intake',
  identities: 'intake',
  catalog: 'intake',
  policyBundles: 'policy',
  decisions: 'policy',
  approvals: 'approval',
  grants: 'provisioning',
  schedule: 'scheduler',
  audit: 'audit',
  notifications: 'notifier',
  itsmInbound: 'itsm-upstream',
  itsmStatus: 'intake',
  deadLetter: 'messaging',
};

/** Commands go from provisioning to one connector; results come back from that connector alone. */
export const CONNECTOR_TOPIC_OWNERS = { commands: 'provisioning', results: 'connector' } as const;

/** Stands in for the connector id in the topic of connector event definitions. */
export const CONNECTOR_ID_PLACEHOLDER = '{connectorId}';

// Kafka allows [a-zA-Z0-9._-] in topic names; we keep connector ids lowercase and dot-free so the id segment
// cannot be confused with the topic's own dotted structure.
const CONNECTOR_ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,99}$/;

function assertConnectorId(connectorId: string): void {
  if (connectorId !== CONNECTOR_ID_PLACEHOLDER && !CONNECTOR_ID_PATTERN.test(connectorId)) {
    throw new ContractViolationError(
      [{ path: 'connectorId', message: `Invalid connector id "${connectorId}": expected ${String(CONNECTOR_ID_PATTERN)}` }],
      'topic',
    );
  }
}

export function connectorCommandsTopic(connectorId: string): TopicName {
  assertConnectorId(connectorId);
  return `iga.connectors.${connectorId}.commands.v1`;
}

export function connectorResultsTopic(connectorId: string): TopicName {
  assertConnectorId(connectorId);
  return `iga.connectors.${connectorId}.results.v1`;
}

const CONNECTOR_TOPIC = /^iga\.connectors\.([^.]+)\.(commands|results)\.v1$/;

/** The connector id of a connector topic, or undefined for any other topic. */
export function connectorIdOfTopic(topic: string): string | undefined {
  const match = CONNECTOR_TOPIC.exec(topic);
  return match?.[1] !== undefined && (match[1] === CONNECTOR_ID_PLACEHOLDER || CONNECTOR_ID_PATTERN.test(match[1])) ? match[1] : undefined;
}

/** The single writer of a topic (fixed or per-connector: results are written by `connector:<id>`), or undefined if the topic is not in the catalogue. */
export function ownerOfTopic(topic: string): string | undefined {
  const key = (Object.keys(TOPICS) as TopicKey[]).find((candidate) => TOPICS[candidate] === topic);
  if (key !== undefined) return TOPIC_OWNERS[key];
  const connectorId = connectorIdOfTopic(topic);
  if (connectorId === undefined) return undefined;
  return topic.endsWith('.commands.v1') ? CONNECTOR_TOPIC_OWNERS.commands : `${CONNECTOR_TOPIC_OWNERS.results}:${connectorId}`;
}

export function isCatalogueTopic(topic: string): topic is TopicName {
  return ownerOfTopic(topic) !== undefined;
}
