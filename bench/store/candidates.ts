import { mongo } from 'mongoose';
import { FERRETDB_VERSION, MONGO_JAVA_SERVER_VERSION, startPrivateFerretdb, startPrivateMongoJavaServer, startPrivatePostgres } from '@grantline/testing';
import type { PrivateServer } from '@grantline/testing';

/** The MongoDB-wire servers weighed for the local store (issue 12 item 4); the first is the harness default, the baseline. */
export const CANDIDATES = ['ferretdb-sqlite', 'ferretdb-postgresql', 'mongo-java-server'] as const;
export type CandidateName = (typeof CANDIDATES)[number];

export function isCandidate(name: string): name is CandidateName {
  return (CANDIDATES as readonly string[]).includes(name);
}

/** A candidate started for this run only: its own port and data, gone after `dispose()`. */
export interface RunningCandidate {
  readonly name: CandidateName;
  readonly url: string;
  /** What answered: the server's buildInfo (FerretDB adds its own version and backend). */
  readonly version: string;
  dispose(): Promise<void>;
}

export interface CandidateOptions {
  /** mongo-java-server keeps everything on the JVM heap: a million ~1.6 KiB documents need several GiB. */
  readonly javaHeap: string;
}

export async function startCandidate(name: CandidateName, options: CandidateOptions): Promise<RunningCandidate> {
  const servers: PrivateServer[] = [];
  const disposeAll = async (): Promise<void> => {
    // the FerretDB in front first, then the PostgreSQL under it
    for (const server of [...servers].reverse()) await server.dispose().catch(() => undefined);
  };
  try {
    switch (name) {
      case 'ferretdb-sqlite':
        servers.push(await startPrivateFerretdb());
        break;
      case 'ferretdb-postgresql': {
        const postgres = await startPrivatePostgres();
        servers.push(postgres);
        servers.push(await startPrivateFerretdb({ postgresqlUrl: postgres.url }));
        break;
      }
      case 'mongo-java-server':
        servers.push(await startPrivateMongoJavaServer({ heap: options.javaHeap }));
        break;
    }
    const front = servers[servers.length - 1];
    if (front === undefined) throw new Error(`${name}: nothing started`);
    return { name, url: front.url, version: await serverVersion(front.url, name), dispose: disposeAll };
  } catch (error) {
    await disposeAll();
    throw error;
  }
}

async function serverVersion(url: string, name: CandidateName): Promise<string> {
  const client = new mongo.MongoClient(url, { serverSelectionTimeoutMS: 10_000 });
  try {
    const info = await client.db('admin').command({ buildInfo: 1 });
    const wire = `answers as MongoDB ${String(info['version'])}`;
    const what: Record<CandidateName, string> = {
      'ferretdb-sqlite': `FerretDB ${FERRETDB_VERSION}, SQLite backend`,
      'ferretdb-postgresql': `FerretDB ${FERRETDB_VERSION}, PostgreSQL backend`,
      'mongo-java-server': `mongo-java-server ${MONGO_JAVA_SERVER_VERSION}, in-memory backend`,
    };
    return `${what[name]} (${wire})`;
  } finally {
    await client.close();
  }
}

/**
 * `--serve NAME`: starts one candidate, prints `MONGO_URL=…` on stdout and keeps it until SIGINT/SIGTERM, so the
 * integration specs can run against it (`MONGO_URL=… npm test -- …`: the harness then uses it instead of its own).
 */
export async function serveCandidate(name: CandidateName, options: CandidateOptions): Promise<void> {
  const candidate = await startCandidate(name, options);
  process.stdout.write(`MONGO_URL=${candidate.url}\n`);
  process.stderr.write(`store | serving ${candidate.version} until SIGINT/SIGTERM\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await candidate.dispose();
}
