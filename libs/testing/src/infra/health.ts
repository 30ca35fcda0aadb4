import { MongoClient } from 'mongodb';
import { Client } from 'pg';

/** A real round trip (`ping`), not just an open port: FerretDB accepts TCP before its backend is ready. */
export async function mongoPing(url: string, timeoutMs = 5000): Promise<boolean> {
  const client = new MongoClient(url, { serverSelectionTimeoutMS: timeoutMs, connectTimeoutMS: timeoutMs });
  try {
    await client.connect();
    const reply = await client.db('admin').command({ ping: 1 });
    return reply['ok'] === 1;
  } finally {
    await client.close();
  }
}

/** The server's own description: MongoDB version, plus FerretDB's when it is FerretDB. */
export async function mongoServerVersion(url: string): Promise<string> {
  const client = new MongoClient(url, { serverSelectionTimeoutMS: 5000 });
  try {
    await client.connect();
    const info = await client.db('admin').command({ buildInfo: 1 });
    const ferret = info['ferretdbVersion'];
    return typeof ferret === 'string' ? `FerretDB ${ferret} (MongoDB ${String(info['version'])} wire)` : `MongoDB ${String(info['version'])}`;
  } finally {
    await client.close();
  }
}

export async function pgQuery<Row extends Record<string, unknown>>(url: string, sql: string): Promise<Row[]> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    return (await client.query<Row>(sql)).rows;
  } finally {
    await client.end();
  }
}

export async function pgServerVersion(url: string): Promise<string> {
  const rows = await pgQuery<{ server_version: string }>(url, 'SHOW server_version');
  // "15.18 (Debian 15.18-0+deb12u1)": the packaging suffix is noise in one-line reports
  return `PostgreSQL ${rows[0]?.server_version.split(' ')[0] ?? 'unknown'}`;
}
