import { randomBytes } from 'node:crypto';

/**
 * A name no other spec (or earlier run) uses, valid as a Kafka topic, consumer group,
 * MongoDB database and PostgreSQL identifier: lower-case letters, digits, '_'.
 */
export function uniqueName(prefix: string): string {
  const clean =
    prefix
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '_')
      .replace(/^_+|_+$/g, '') || 'spec';
  // MongoDB database names are limited to 63 bytes
  return `${clean.slice(0, 40)}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
}

function missingMessage(missing: readonly string[]): string {
  return (
    `${missing.join(', ')} not set: integration specs need jest's global setup (run them with \`npm test\`, ` +
    'not with GRANTLINE_INFRA=none), or `npm run infra:up` and the variables exported by hand'
  );
}

export interface InfraEndpoints {
  kafkaBrokers: string[];
  mongoUrl: string;
  pgUrl: string;
}

/** The endpoints jest's global setup exported; a clear error instead of a connection timeout when absent. */
export function infraEndpoints(env: NodeJS.ProcessEnv = process.env): InfraEndpoints {
  const missing = ['KAFKA_BROKERS', 'MONGO_URL', 'PG_URL'].filter((name) => (env[name] ?? '') === '');
  if (missing.length > 0) {
    throw new Error(missingMessage(missing));
  }
  return {
    kafkaBrokers: (env['KAFKA_BROKERS'] as string)
      .split(',')
      .map((broker) => broker.trim())
      .filter(Boolean),
    mongoUrl: env['MONGO_URL'] as string,
    pgUrl: env['PG_URL'] as string,
  };
}

/** MONGO_URL pointed at one database, so each spec reads and drops only its own data. */
export function mongoDatabaseUrl(name: string, env: NodeJS.ProcessEnv = process.env): string {
  if (!/^[A-Za-z0-9_-]{1,63}$/.test(name)) throw new Error(`"${name}" is not a usable MongoDB database name`);
  const mongoUrl = env['MONGO_URL'];
  if (mongoUrl === undefined || mongoUrl === '') throw new Error(missingMessage(['MONGO_URL']));
  const url = new URL(mongoUrl);
  url.pathname = `/${name}`;
  return url.toString();
}
