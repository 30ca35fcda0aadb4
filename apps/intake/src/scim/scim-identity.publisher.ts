import { createHash } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { IdentityOffboarded, IdentityUpserted } from '@grantline/contracts';
import type { IdentityOffboardedData, IdentityUpsertedData } from '@grantline/contracts';
import type { Clock } from '@grantline/decider';
import type { Principal } from '@grantline/http-edge';
import { deterministicEventId } from '@grantline/messaging';
import { CLOCK } from '@grantline/service-kit';
import { actorOf } from '../authorization/actor';
import { IntakePublisher } from '../publishing/intake-publisher';
import { IdentityDirectory } from '../status/request-status.store';
import { identityUpsertOf, leaverOf } from './scim-identity.mapper';
import type { ScimUserRecord } from './scim-user.schema';

/** One identity event a SCIM write causes, with its id fixed before it is published. */
export type IdentityFact =
  | { readonly kind: 'upserted'; readonly identityId: string; readonly eventId: string; readonly data: IdentityUpsertedData }
  | { readonly kind: 'offboarded'; readonly identityId: string; readonly eventId: string; readonly data: IdentityOffboardedData };

/** JSON with sorted keys: the same record always digests the same, whatever order its keys were built in. */
export function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, nested]) => nested !== undefined);
    return `{${entries
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, nested]) => `${JSON.stringify(key)}:${stableJson(nested)}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

const digestOf = (value: unknown): string => createHash('sha256').update(stableJson(value)).digest('hex');

/** Publishes in batches: a Group of thousands re-publishes each member, without thousands of sends in flight. */
const PUBLISH_BATCH = 32;

/**
 * The identity facts of SCIM writes. Event ids derive from (identity, SCIM version[, content]): a client retrying a
 * write whose events were acknowledged but whose store update failed publishes the same ids again, which consumers
 * drop as duplicates, never a second fact.
 */
@Injectable()
export class ScimIdentityPublisher {
  private readonly logger = new Logger('scim');

  constructor(
    private readonly publisher: IntakePublisher,
    private readonly directory: IdentityDirectory,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /** A person as the User now says, with the attributes other sources own carried over from the last record. */
  async upserted(id: string, user: ScimUserRecord, version: number, groupNames: readonly string[]): Promise<IdentityFact> {
    const data = identityUpsertOf({ id, user, groupNames, previous: await this.directory.get(id), sourceVersion: version });
    return { kind: 'upserted', identityId: id, data, eventId: deterministicEventId('intake', 'scim-identity-upserted', id, String(version), digestOf(data)) };
  }

  /** A leaver, with the machine identities they own (each needs a new owner or loses its grants). */
  async offboarded(id: string, version: number, now: Date): Promise<IdentityFact> {
    const data = leaverOf(id, now, await this.directory.ownedBy(id));
    return { kind: 'offboarded', identityId: id, data, eventId: deterministicEventId('intake', 'scim-identity-offboarded', id, String(version)) };
  }

  /** Whether the directory holds a person still here: creating them inactive over SCIM makes them a leaver. */
  async isActivePerson(id: string): Promise<boolean> {
    const standing = await this.directory.standing(id);
    return standing?.kind === 'human' && standing.status !== 'offboarded';
  }

  /** Resolves once Kafka acknowledged every fact; otherwise throws the publisher's 503 and the caller stores nothing. */
  async publish(principal: Principal, facts: readonly IdentityFact[]): Promise<void> {
    const actor = actorOf(principal);
    const time = this.clock.now().toISOString();
    for (let start = 0; start < facts.length; start += PUBLISH_BATCH) {
      await Promise.all(
        facts.slice(start, start + PUBLISH_BATCH).map((fact) =>
          fact.kind === 'upserted'
            ? this.publisher.publish({
                def: IdentityUpserted,
                data: fact.data,
                id: fact.eventId,
                subject: fact.identityId,
                correlationId: fact.identityId,
                actor,
                time,
              })
            : this.publisher.publish({
                def: IdentityOffboarded,
                data: fact.data,
                id: fact.eventId,
                subject: fact.identityId,
                correlationId: fact.identityId,
                actor,
                time,
              }),
        ),
      );
    }
  }

  /**
   * The identity directory learns the facts at once, as after `PUT /v1/identities/:id`. Best effort: the intake's
   * own consumer of the identities topic applies the same events.
   */
  async remember(facts: readonly IdentityFact[]): Promise<void> {
    for (const fact of facts) {
      try {
        if (fact.kind === 'upserted') await this.directory.remember(fact.data.identity);
        else await this.directory.markOffboarded(fact.identityId);
      } catch (error) {
        this.logger.warn(`identity directory update deferred for ${fact.eventId}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }
}
