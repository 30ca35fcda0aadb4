import type { Collection, Connection } from 'mongoose';
import { ConnectorError } from '@grantline/connector-sdk';
import type { CredentialLedger, LedgerEntry, MintedCredential } from '@grantline/credential-issuer';

export const CREDENTIAL_LEDGER_COLLECTION = 'connector_credentials_ledger_v1';

type LedgerDocument = LedgerEntry & { _id: string; connectorId: string };

const UNAVAILABLE = /^Mongo(Network|ServerSelection|NotConnected|Topology|PoolCleared)/;
/** Mongoose's own words for "no connection": commands buffered too long, or refused before the first connection. */
const NOT_CONNECTED = /buffering timed out|before initial connection|Connection was force closed|not connected/i;

/** Infrastructure errors are retriable (`unavailable`), never echoed; anything else is terminal `unknown`. */
function toLedgerError(error: unknown): ConnectorError {
  const name = error instanceof Error ? error.name : '';
  const unreachable = UNAVAILABLE.test(name) || (name === 'MongooseError' && NOT_CONNECTED.test((error as Error).message));
  if (unreachable) return new ConnectorError('unavailable', `the credential ledger is unavailable (${name})`);
  return new ConnectorError('unknown', `the credential ledger failed (${name || 'error'})`);
}

/**
 * The issuer's ledger in the connector's MongoDB database (one document per credential, a rotation's beside its
 * grant's first with `forGrant`, or per plain grant; revoked ones kept for the
 * revocation list and the CRL until their credential expires). No secret is ever stored here.
 */
export class MongoCredentialLedger implements CredentialLedger {
  private readonly entries: Collection<LedgerDocument>;

  constructor(
    private readonly connection: Connection,
    private readonly connectorId: string,
  ) {
    this.entries = connection.collection<LedgerDocument>(CREDENTIAL_LEDGER_COLLECTION);
  }

  async byGrant(grantId: string): Promise<LedgerEntry | undefined> {
    return this.run(async () => entryOf(await this.entries.findOne({ _id: this.idOf(grantId) })));
  }

  async ofGrant(grantId: string): Promise<LedgerEntry[]> {
    return this.run(async () =>
      (await this.entries.find({ connectorId: this.connectorId, $or: [{ _id: this.idOf(grantId) }, { forGrant: grantId }] }).toArray()).flatMap(entriesOf),
    );
  }

  async liveOf(account: string, entitlementRef: string): Promise<LedgerEntry[]> {
    return this.run(async () =>
      (await this.entries.find({ connectorId: this.connectorId, account, entitlementRef, revokedAt: { $exists: false } }).toArray()).flatMap(entriesOf),
    );
  }

  async save(entry: LedgerEntry): Promise<void> {
    await this.run(() => this.entries.replaceOne({ _id: this.idOf(entry.grantId) }, { ...entry, connectorId: this.connectorId }, { upsert: true }));
  }

  async revoke(grantIds: readonly string[], at: Date): Promise<number> {
    if (grantIds.length === 0) return 0;
    return this.run(async () => {
      const result = await this.entries.updateMany(
        { _id: { $in: grantIds.map((id) => this.idOf(id)) }, revokedAt: { $exists: false } },
        { $set: { revokedAt: at } },
      );
      return result.modifiedCount;
    });
  }

  async live(now: Date, scope: { accounts?: readonly string[]; entitlementRefs?: readonly string[] } = {}): Promise<LedgerEntry[]> {
    return this.run(async () => {
      const filter: Record<string, unknown> = {
        connectorId: this.connectorId,
        revokedAt: { $exists: false },
        $or: [{ credential: { $exists: false } }, { 'credential.expiresAt': { $gt: now } }],
      };
      if (scope.accounts) filter['account'] = { $in: [...scope.accounts] };
      if (scope.entitlementRefs) filter['entitlementRef'] = { $in: [...scope.entitlementRefs] };
      return (await this.entries.find(filter).toArray()).flatMap(entriesOf);
    });
  }

  async revokedCredentials(type: MintedCredential['type'], now: Date): Promise<LedgerEntry[]> {
    return this.run(async () =>
      (
        await this.entries
          .find({ connectorId: this.connectorId, revokedAt: { $exists: true }, 'credential.type': type, 'credential.expiresAt': { $gt: now } })
          .toArray()
      ).flatMap(entriesOf),
    );
  }

  async ping(): Promise<void> {
    await this.run(async () => {
      const db = this.connection.db;
      if (!db) throw Object.assign(new Error('not connected'), { name: 'MongoNotConnectedError' });
      await db.command({ ping: 1 });
    });
  }

  private idOf(grantId: string): string {
    return `${this.connectorId}/${grantId}`;
  }

  private async run<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw toLedgerError(error);
    }
  }
}

function entryOf(document: LedgerDocument | null): LedgerEntry | undefined {
  if (!document) return undefined;
  const { _id: _key, connectorId: _connector, ...entry } = document;
  return entry;
}

function entriesOf(document: LedgerDocument): LedgerEntry[] {
  const entry = entryOf(document);
  return entry ? [entry] : [];
}
