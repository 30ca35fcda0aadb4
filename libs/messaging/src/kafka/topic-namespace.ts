/**
 * Several Grantline environments can share one Kafka cluster (a developer's `npm start` beside the test
 * suite, every end-to-end platform beside the others). A namespace keeps them apart without touching any
 * service: the catalogue's logical names (`iga.requests.v1`, consumer groups, transactional ids) stay what the
 * code says, and only the names on the cluster carry the prefix (`e2e-run1.iga.requests.v1`). Handlers and
 * dead-letter records see logical topic names, so the namespace never leaks into events.
 */
export class TopicNamespace {
  static readonly PATTERN = /^[a-z0-9][a-z0-9-]{0,47}$/;
  private readonly prefix: string;

  constructor(readonly name?: string) {
    if (name !== undefined && !TopicNamespace.PATTERN.test(name)) {
      throw new Error(`invalid topic namespace "${name}": expected ${String(TopicNamespace.PATTERN)} (lowercase letters, digits, dashes)`);
    }
    this.prefix = name === undefined ? '' : `${name}.`;
  }

  /** The name on the cluster of a logical topic. */
  topic(logical: string): string {
    return `${this.prefix}${logical}`;
  }

  /** The logical name of a topic on the cluster (names outside the namespace are returned as they are). */
  logicalTopic(physical: string): string {
    return this.prefix !== '' && physical.startsWith(this.prefix) ? physical.slice(this.prefix.length) : physical;
  }

  /** Consumer groups and transactional ids are cluster-wide too. */
  group(logical: string): string {
    return `${this.prefix}${logical}`;
  }
}
