import {
  CONNECTOR_TOPIC_OWNERS,
  CONNECTOR_TOPIC_READERS,
  TOPIC_OWNERS,
  TOPIC_READERS,
  TOPICS,
  connectorCommandsTopic,
  connectorResultsTopic,
} from '@grantline/contracts';
import type { TopicKey } from '@grantline/contracts';
import { TopicNamespace } from '../kafka/topic-namespace';
import { leaseTopic } from '../kafka/kafka-lease';

// The Kafka ACLs of a deployment, derived from the topic catalogue (docs/adr/0017). Pure: no client, no broker.
// `grantline kafka acls` prints or applies them; the test harness applies them for each namespace it runs.

export type AclResourceType = 'topic' | 'group' | 'transactional-id' | 'cluster';
export type AclPatternType = 'literal' | 'prefixed';
/** Kafka's ACL operations; the plan uses read, write, create, describe and describe-configs (and alter for the ACL connector). */
export type AclOperation =
  'read' | 'write' | 'create' | 'delete' | 'alter' | 'describe' | 'describe-configs' | 'alter-configs' | 'cluster-action' | 'idempotent-write' | 'all';

/** The one cluster resource's name in Kafka's ACLs. */
export const KAFKA_CLUSTER_RESOURCE = 'kafka-cluster';

/** The service of the Kafka ACL connector (libs/connector-kafka-acl): it creates and deletes ACLs on the cluster. */
export const KAFKA_ACL_CONNECTOR_SERVICE = 'connector-kafka-acl';

/**
 * Where the Kafka ACL connector grants access by default: topics and groups named `jit.…`. Grantline's own topics
 * (`iga.…`, namespaced `<ns>.iga.…`) and groups never start with it, so the platform's own ACLs stay out of its reach.
 */
export const KAFKA_ACL_MANAGED_PREFIX = 'jit.';

/** One ALLOW rule; everything without one is denied (`allow.everyone.if.no.acl.found=false`). */
export interface AclBinding {
  /** `User:<name>`: the SCRAM user name is the principal name. */
  readonly principal: string;
  readonly resourceType: AclResourceType;
  readonly resourceName: string;
  readonly patternType: AclPatternType;
  readonly operation: AclOperation;
}

/** A connector running in the deployment: its id (topics, principal) and its service (consumer group, transactional ids). */
export interface ConnectorDeployment {
  readonly id: string;
  /** `connector-postgres`: the connector app's service name. */
  readonly service: string;
}

export interface KafkaAclPlanOptions {
  /** The deployment's topic namespace; the same ACLs on the prefixed names. */
  readonly namespace?: string;
  readonly connectors?: readonly ConnectorDeployment[];
}

export type PrincipalKind = 'service' | 'connector' | 'upstream';

export interface KafkaPrincipal {
  /** The SCRAM user name. */
  readonly name: string;
  readonly kind: PrincipalKind;
}

export interface KafkaAclPlan {
  /** Every user the deployment needs, services first, in a stable order. */
  readonly principals: readonly KafkaPrincipal[];
  readonly bindings: readonly AclBinding[];
}

/** `messaging` owns the dead-letter topic: every service embeds the library, so every service writes there. */
const EVERY_SERVICE = 'messaging';
const UPSTREAM_SUFFIX = '-upstream';

/** Kafka user name of a connector: `connector:<id>`, the owner name the catalogue gives its results topic. */
export function connectorPrincipal(connectorId: string): string {
  return `${CONNECTOR_TOPIC_OWNERS.results}:${connectorId}`;
}

/** The Grantline services the catalogue names (owners and readers), without the library pseudo-owner and the external upstreams. */
export function catalogueServices(): string[] {
  const keys = Object.keys(TOPICS) as TopicKey[];
  const names = new Set<string>([...keys.map((key) => TOPIC_OWNERS[key]), ...keys.flatMap((key) => TOPIC_READERS[key])]);
  names.add(CONNECTOR_TOPIC_OWNERS.commands);
  for (const reader of [...CONNECTOR_TOPIC_READERS.commands, ...CONNECTOR_TOPIC_READERS.results]) names.add(reader);
  return [...names].filter((name) => name !== EVERY_SERVICE && !name.endsWith(UPSTREAM_SUFFIX)).sort();
}

function catalogueUpstreams(): string[] {
  const keys = Object.keys(TOPICS) as TopicKey[];
  const names = new Set<string>([...keys.map((key) => TOPIC_OWNERS[key]), ...keys.flatMap((key) => TOPIC_READERS[key])]);
  return [...names].filter((name) => name.endsWith(UPSTREAM_SUFFIX)).sort();
}

class PlanBuilder {
  private readonly seen = new Set<string>();
  readonly bindings: AclBinding[] = [];

  constructor(private readonly namespace: TopicNamespace) {}

  add(principal: string, resourceType: AclResourceType, logicalName: string, patternType: AclPatternType, operations: readonly AclOperation[]): void {
    const resourceName = resourceType === 'topic' ? this.namespace.topic(logicalName) : this.namespace.group(logicalName);
    this.addExact(principal, resourceType, resourceName, patternType, operations);
  }

  /** A resource outside the namespace: the cluster, a target's own topics. */
  addExact(principal: string, resourceType: AclResourceType, resourceName: string, patternType: AclPatternType, operations: readonly AclOperation[]): void {
    for (const operation of operations) {
      const binding: AclBinding = { principal: `User:${principal}`, resourceType, resourceName, patternType, operation };
      const key = `${binding.principal}|${resourceType}|${resourceName}|${patternType}|${operation}`;
      if (this.seen.has(key)) continue;
      this.seen.add(key);
      this.bindings.push(binding);
    }
  }

  /** The single writer: it creates its topic too (a deployment's provisioning step usually did already). */
  owns(principal: string, topic: string): void {
    this.add(principal, 'topic', topic, 'literal', ['write', 'read', 'describe', 'describe-configs', 'create']);
  }

  reads(principal: string, topic: string): void {
    this.add(principal, 'topic', topic, 'literal', ['read', 'describe', 'describe-configs']);
  }

  /** Appends without owning the topic (the dead-letter topic, written by every service's messaging library). */
  appends(principal: string, topic: string): void {
    this.add(principal, 'topic', topic, 'literal', ['write', 'describe', 'describe-configs', 'create']);
  }

  /**
   * The consumer groups and transactional ids a service's bus uses (libs/messaging): its main group `<group>` and the
   * groups beside it `<group>.<suffix>`, the throw-away replay and record-reader groups `replay.<client>.` /
   * `read.<client>.`, and the transactional ids `<client>.<group>.<instance>`.
   */
  groups(principal: string, clientId: string, groupId: string): void {
    this.add(principal, 'group', groupId, 'literal', ['read', 'describe']);
    this.add(principal, 'group', `${groupId}.`, 'prefixed', ['read', 'describe']);
    this.add(principal, 'group', `replay.${clientId}.`, 'prefixed', ['read', 'describe']);
    this.add(principal, 'group', `read.${clientId}.`, 'prefixed', ['read', 'describe']);
    this.add(principal, 'transactional-id', `${clientId}.${groupId}.`, 'prefixed', ['write', 'describe']);
  }

  /** One active instance (ADR 0012): the empty lease topic and its consumer group are the service's own. */
  lease(principal: string, name: string): void {
    const topic = leaseTopic(name);
    this.add(principal, 'topic', topic, 'literal', ['read', 'describe', 'describe-configs', 'create']);
    this.add(principal, 'group', topic, 'literal', ['read', 'describe']);
  }
}

/**
 * Every ACL a deployment needs, from the catalogue's owners and readers:
 * - a service writes (and creates) the topics it owns, reads those it consumes, appends to the dead-letter topic,
 *   and uses only its own consumer groups, transactional ids and lease;
 * - a connector `connector:<id>` reads only its command topic and writes only its results topic;
 * - an upstream (`itsm-upstream`) writes only the topic it owns;
 * - provisioning writes each deployed connector's command topic; the readers of connector topics read them.
 * Describe-configs everywhere a principal reads or writes: services check the retention of their topics at start.
 */
export function kafkaAclPlan(options: KafkaAclPlanOptions = {}): KafkaAclPlan {
  const plan = new PlanBuilder(new TopicNamespace(options.namespace));
  const services = catalogueServices();
  const upstreams = catalogueUpstreams();
  const connectors = [...(options.connectors ?? [])].sort((a, b) => a.id.localeCompare(b.id));
  const ids = new Set<string>();
  for (const connector of connectors) {
    if (ids.has(connector.id)) throw new Error(`connector id "${connector.id}" is listed twice`);
    ids.add(connector.id);
  }
  const keys = Object.keys(TOPICS) as TopicKey[];

  for (const service of services) {
    for (const key of keys) {
      if (TOPIC_OWNERS[key] === service) plan.owns(service, TOPICS[key]);
      else if (TOPIC_READERS[key].includes(service)) plan.reads(service, TOPICS[key]);
    }
    plan.appends(service, TOPICS.deadLetter);
    plan.groups(service, service, service);
    plan.lease(service, service);
  }

  for (const upstream of upstreams) {
    for (const key of keys) {
      if (TOPIC_OWNERS[key] === upstream) plan.add(upstream, 'topic', TOPICS[key], 'literal', ['write', 'describe']);
      else if (TOPIC_READERS[key].includes(upstream)) plan.reads(upstream, TOPICS[key]);
    }
    plan.add(upstream, 'group', upstream, 'literal', ['read', 'describe']);
    plan.add(upstream, 'group', `${upstream}.`, 'prefixed', ['read', 'describe']);
  }

  for (const { id, service } of connectors) {
    const principal = connectorPrincipal(id);
    const commands = connectorCommandsTopic(id);
    const results = connectorResultsTopic(id);
    plan.owns(CONNECTOR_TOPIC_OWNERS.commands, commands);
    for (const reader of CONNECTOR_TOPIC_READERS.commands) plan.reads(reader, commands);
    for (const reader of CONNECTOR_TOPIC_READERS.results) plan.reads(reader, results);
    plan.reads(principal, commands);
    plan.owns(principal, results);
    plan.appends(principal, TOPICS.deadLetter);
    // libs/connector-host: group `<service>-<id>`, transactional ids `<service>.<service>-<id>.<instance>`
    plan.groups(principal, service, `${service}-${id}`);
    if (service === KAFKA_ACL_CONNECTOR_SERVICE) {
      // Creating and deleting ACLs needs ALTER on the cluster, listing them DESCRIBE (Kafka has nothing narrower: the
      // connector itself refuses anything outside its managed prefix); DESCRIBE on the managed topics to tell a
      // missing topic from a present one. Deployment-wide, not namespaced: the managed topics are the target's.
      plan.addExact(principal, 'cluster', KAFKA_CLUSTER_RESOURCE, 'literal', ['alter', 'describe']);
      plan.addExact(principal, 'topic', KAFKA_ACL_MANAGED_PREFIX, 'prefixed', ['describe']);
    }
  }

  return {
    principals: [
      ...services.map((name) => ({ name, kind: 'service' as const })),
      ...connectors.map(({ id }) => ({ name: connectorPrincipal(id), kind: 'connector' as const })),
      ...upstreams.map((name) => ({ name, kind: 'upstream' as const })),
    ],
    bindings: plan.bindings,
  };
}

/**
 * A binding every namespace of the deployment shares (the ACL connector's cluster and managed-topic rights): a finished
 * namespace leaves it, like the principals, for the namespaces still running.
 */
export function isSharedAcrossNamespaces(binding: AclBinding, namespace: string | undefined): boolean {
  if (binding.resourceType === 'cluster') return true;
  return namespace !== undefined && !binding.resourceName.startsWith(`${namespace}.`);
}

/** One line per binding, for `--print` and for reviews: `User:intake ALLOW write topic iga.requests.v1 (literal)`. */
export function describeAclBinding(binding: AclBinding): string {
  return `${binding.principal} ALLOW ${binding.operation} ${binding.resourceType} ${binding.resourceName} (${binding.patternType})`;
}
