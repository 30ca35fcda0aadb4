import { MongoClient } from 'mongodb';
import { Client } from 'pg';
import { infraEndpoints } from '../endpoints';
import { mongoPing, pgQuery } from './health';
import { startPrivateFerretdb, startPrivatePostgres } from './private-servers';
import type { PrivateServer } from './private-servers';

// Fault-injection specs stop and restart servers of their own; the shared ones of jest's global setup must not notice.
describe('private servers a spec may stop and start again', () => {
  const servers: PrivateServer[] = [];
  afterAll(async () => {
    await Promise.all(servers.map((server) => server.dispose()));
  });

  it('a private FerretDB keeps its data across a stop and a start on the same port, and the shared one is untouched', async () => {
    const server = await startPrivateFerretdb();
    servers.push(server);
    expect(server.url).not.toBe(infraEndpoints().mongoUrl);
    const write = new MongoClient(server.url, { serverSelectionTimeoutMS: 5_000 });
    await write.connect();
    await write.db('spec').collection<{ _id: string; n: number }>('docs').insertOne({ _id: 'a', n: 1 });
    await write.close();

    await server.stop();
    expect(server.isRunning()).toBe(false);
    await expect(mongoPing(server.url, 1_000)).rejects.toThrow();
    expect(await mongoPing(infraEndpoints().mongoUrl)).toBe(true);

    await server.start();
    const read = new MongoClient(server.url, { serverSelectionTimeoutMS: 5_000 });
    await read.connect();
    try {
      expect(await read.db('spec').collection<{ _id: string; n: number }>('docs').findOne({ _id: 'a' })).toEqual({ _id: 'a', n: 1 });
    } finally {
      await read.close();
    }
  });

  it('a private PostgreSQL keeps its roles across a stop and a start on the same port, and the shared one is untouched', async () => {
    const server = await startPrivatePostgres();
    servers.push(server);
    expect(server.url).not.toBe(infraEndpoints().pgUrl);
    await pgQuery(server.url, 'CREATE ROLE private_spec_role NOLOGIN');

    await server.stop();
    expect(server.isRunning()).toBe(false);
    const refused = new Client({ connectionString: server.url, connectionTimeoutMillis: 2_000 });
    await expect(refused.connect()).rejects.toThrow();
    expect((await pgQuery<{ ok: number }>(infraEndpoints().pgUrl, 'SELECT 1 AS ok'))[0]?.ok).toBe(1);

    await server.start();
    expect(await pgQuery(server.url, "SELECT rolname FROM pg_roles WHERE rolname = 'private_spec_role'")).toEqual([{ rolname: 'private_spec_role' }]);
  }, 120_000);
});
