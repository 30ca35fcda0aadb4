import { MongoClient } from 'mongodb';
import { Client } from 'pg';
import { infraEndpoints, mongoDatabaseUrl, uniqueName } from './endpoints';
import { kafkaLogSaysStarted } from './infra/kafka-local.provider';
import { readInfraState } from './infra/infra-manager';
import { isPortOpen } from './infra/process.util';

// Proves that jest's global setup brought real servers up and exported their endpoints.
describe('infrastructure from global setup', () => {
  const endpoints = infraEndpoints();

  it('serves a MongoDB-wire database per spec', async () => {
    const database = uniqueName('testing_infra');
    const client = new MongoClient(mongoDatabaseUrl(database), { serverSelectionTimeoutMS: 5000 });
    await client.connect();
    try {
      const grants = client.db().collection<{ _id: string; role: string }>('grants');
      await grants.insertOne({ _id: 'g-1', role: 'db-reader' });
      expect(await grants.findOne({ _id: 'g-1' })).toEqual({ _id: 'g-1', role: 'db-reader' });
      expect(client.db().databaseName).toBe(database);
    } finally {
      await client.db().dropDatabase();
      await client.close();
    }
  });

  it('serves PostgreSQL with a superuser that can create databases and roles', async () => {
    const client = new Client({ connectionString: endpoints.pgUrl });
    await client.connect();
    const database = uniqueName('testing_infra');
    try {
      const { rows } = await client.query<{ superuser: boolean; one: number }>("SELECT current_setting('is_superuser') = 'on' AS superuser, 1 AS one");
      expect(rows).toEqual([{ superuser: true, one: 1 }]);
      await client.query(`CREATE DATABASE ${database}`);
      const created = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
      expect(created.rowCount).toBe(1);
    } finally {
      await client.query(`DROP DATABASE IF EXISTS ${database}`);
      await client.end();
    }
  });

  it('has a Kafka broker listening (and, when local, logging that it started)', async () => {
    const [host, port] = (endpoints.kafkaBrokers[0] ?? '').split(':');
    expect(await isPortOpen(host ?? '', Number(port))).toBe(true);
    const kafka = readInfraState()?.components.kafka;
    if (kafka?.mode === 'local') {
      expect(kafka.logFile).toBeDefined();
      expect(kafkaLogSaysStarted(kafka.logFile!)).toBe(true);
    }
  });
});
