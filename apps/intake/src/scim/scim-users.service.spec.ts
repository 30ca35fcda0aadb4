import type { Identity } from '@grantline/contracts';
import { systemClock } from '@grantline/decider';
import { ProblemException } from '@grantline/http-edge';
import type { Principal } from '@grantline/http-edge';
import { KeyedMutex } from '@grantline/service-kit';
import type { EventToWrite, IntakePublisher } from '../publishing/intake-publisher';
import type { IdentityDirectory } from '../status/request-status.store';
import { ScimIdentityPublisher } from './scim-identity.publisher';
import type { GroupRef } from './scim-resource.mapper';
import { RFC7644_CREATE_USER } from './scim-rfc.fixtures';
import { ScimUsersService } from './scim-users.service';
import type { ScimStore, ScimUserDocument } from './scim.store';

const okta: Principal = { subject: 'okta', kind: 'workload', roles: new Set(['identity-source']), claims: {} };
const ORIGIN = 'https://grantline.example';

/** The part of ScimStore the users service touches, in memory; `failNextWrite` plays a database outage. */
class InMemoryUsers {
  readonly documents = new Map<string, ScimUserDocument>();
  failNextWrite = false;
  private readonly locks = new KeyedMutex();

  async exclusively<T>(keys: readonly string[], work: () => Promise<T>): Promise<T> {
    const [first, ...rest] = [...new Set(keys)];
    return first === undefined ? work() : this.locks.run(first, () => this.exclusively(rest, work));
  }
  async user(id: string): Promise<ScimUserDocument | undefined> {
    return structuredClone(this.documents.get(id));
  }
  async userNamed(key: string): Promise<ScimUserDocument | undefined> {
    return [...this.documents.values()].find((document) => document.userNameKey === key && document.deleted !== true);
  }
  async insertUser(document: ScimUserDocument): Promise<void> {
    this.write(document);
  }
  async replaceUser(document: ScimUserDocument): Promise<void> {
    this.write(document);
  }
  async groupsOf(): Promise<Map<string, GroupRef[]>> {
    return new Map();
  }
  async removeMember(): Promise<void> {}
  private write(document: ScimUserDocument): void {
    if (this.failNextWrite) {
      this.failNextWrite = false;
      throw new Error('database unavailable');
    }
    this.documents.set(document._id, structuredClone(document));
  }
}

/** Records what was published; `unavailable` answers like IntakePublisher when Kafka does not acknowledge. */
class RecordingPublisher {
  readonly published: EventToWrite<unknown>[] = [];
  readonly attempted: string[] = [];
  unavailable = false;

  async publish<T>(event: EventToWrite<T>): Promise<unknown> {
    this.attempted.push(event.id);
    if (this.unavailable) throw ProblemException.of({ slug: 'event-log-unavailable', title: 'Event log unavailable', status: 503 }, 'retry later');
    this.published.push(event as EventToWrite<unknown>);
    return {};
  }
}

class InMemoryDirectory {
  readonly identities = new Map<string, Identity>();
  async get(id: string): Promise<Identity | undefined> {
    return this.identities.get(id);
  }
  async remember(identity: Identity): Promise<void> {
    this.identities.set(identity.identityId, identity);
  }
  async markOffboarded(id: string): Promise<void> {
    const known = this.identities.get(id);
    if (known) this.identities.set(id, { ...known, status: 'offboarded' });
  }
  async standing(id: string): Promise<{ kind: string; status: string } | undefined> {
    const known = this.identities.get(id);
    return known && { kind: known.kind, status: known.status };
  }
  async ownedBy(): Promise<string[]> {
    return [];
  }
}

function setUp() {
  const store = new InMemoryUsers();
  const publisher = new RecordingPublisher();
  const directory = new InMemoryDirectory();
  const identities = new ScimIdentityPublisher(publisher as unknown as IntakePublisher, directory as unknown as IdentityDirectory, systemClock);
  const users = new ScimUsersService(store as unknown as ScimStore, identities, systemClock);
  return { store, publisher, directory, users };
}

const rejection = async (promise: Promise<unknown>): Promise<string> =>
  promise.then(
    () => 'resolved',
    (error: unknown) => (error instanceof ProblemException ? `${error.problem.status}` : error instanceof Error ? error.message : String(error)),
  );

describe('ScimUsersService: publish first, then store', () => {
  it('stores nothing when Kafka does not acknowledge (503), and the retry publishes the same event id', async () => {
    const { store, publisher, users } = setUp();
    publisher.unavailable = true;
    expect(await rejection(users.create(okta, RFC7644_CREATE_USER, ORIGIN))).toBe('503');
    expect(store.documents.size).toBe(0);
    publisher.unavailable = false;
    await users.create(okta, RFC7644_CREATE_USER, ORIGIN);
    expect(store.documents.get('bjensen')?.meta.version).toBe(1);
    expect(publisher.published).toHaveLength(1);
    expect(publisher.attempted).toEqual([publisher.published[0]?.id, publisher.published[0]?.id]);
  });

  it('answers a store failure after the event was acknowledged, and the retry is a duplicate (same id), not a second fact', async () => {
    const { store, publisher, users } = setUp();
    store.failNextWrite = true;
    expect(await rejection(users.create(okta, RFC7644_CREATE_USER, ORIGIN))).toBe('database unavailable');
    await users.create(okta, RFC7644_CREATE_USER, ORIGIN);
    expect(publisher.published.map((event) => event.id)).toHaveLength(2);
    expect(new Set(publisher.published.map((event) => event.id)).size).toBe(1);
    expect(publisher.published[1]).toMatchObject({
      subject: 'bjensen',
      correlationId: 'bjensen',
      actor: { kind: 'service', id: 'okta' },
      data: { sourceVersion: 1 },
    });
  });

  it('keeps sourceVersion monotonic through a delete and a re-creation of the same userName', async () => {
    const { publisher, users } = setUp();
    await users.create(okta, RFC7644_CREATE_USER, ORIGIN);
    await users.remove(okta, 'bjensen', undefined);
    await users.create(okta, RFC7644_CREATE_USER, ORIGIN);
    expect(publisher.published.map((event) => [event.def.type, (event.data as { sourceVersion?: number }).sourceVersion])).toEqual([
      ['iga.identity.upserted.v1', 1],
      ['iga.identity.offboarded.v1', undefined],
      ['iga.identity.upserted.v1', 3],
    ]);
  });

  it('offboards a person another source recorded when the identity provider creates them inactive', async () => {
    const { directory, publisher, users } = setUp();
    directory.identities.set('bjensen', { kind: 'human', identityId: 'bjensen', displayName: 'B', status: 'active', attributes: {} });
    await users.create(okta, { ...RFC7644_CREATE_USER, active: false }, ORIGIN);
    expect(publisher.published.map((event) => event.def.type)).toEqual(['iga.identity.offboarded.v1']);
    await users.create(okta, { ...RFC7644_CREATE_USER, userName: 'newcomer', active: false }, ORIGIN);
    expect(publisher.published).toHaveLength(1);
  });

  it('serialises writes to one user: concurrent PATCHes each see the version the previous one left', async () => {
    const { store, publisher, users } = setUp();
    await users.create(okta, RFC7644_CREATE_USER, ORIGIN);
    const patch = (nickName: string) => users.patch(okta, 'bjensen', { Operations: [{ op: 'replace', path: 'nickName', value: nickName }] }, undefined, ORIGIN);
    await Promise.all([patch('a'), patch('b'), patch('c')]);
    expect(store.documents.get('bjensen')?.meta.version).toBe(4);
    expect(publisher.published.map((event) => (event.data as { sourceVersion: number }).sourceVersion)).toEqual([1, 2, 3, 4]);
  });
});
