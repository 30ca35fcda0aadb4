import { infraEndpoints, mongoDatabaseUrl, uniqueName } from './endpoints';

describe('uniqueName', () => {
  it('gives a fresh name valid as topic, group, MongoDB database and SQL identifier', () => {
    const names = new Set(Array.from({ length: 200 }, () => uniqueName('Grant Expiry.spec')));
    expect(names.size).toBe(200);
    for (const name of names) {
      expect(name).toMatch(/^grant_expiry_spec_[a-z0-9]+_[0-9a-f]{8}$/);
      expect(name.length).toBeLessThanOrEqual(63);
    }
  });

  it('keeps long prefixes within 63 characters', () => {
    expect(uniqueName('x'.repeat(200)).length).toBeLessThanOrEqual(63);
  });
});

describe('infraEndpoints', () => {
  const env = { KAFKA_BROKERS: '127.0.0.1:19092, 127.0.0.1:19094', MONGO_URL: 'mongodb://127.0.0.1:27027/', PG_URL: 'postgres://u:p@127.0.0.1:15432/postgres' };

  it('reads the endpoints global setup exported', () => {
    expect(infraEndpoints(env)).toEqual({
      kafkaBrokers: ['127.0.0.1:19092', '127.0.0.1:19094'],
      mongoUrl: env.MONGO_URL,
      pgUrl: env.PG_URL,
    });
  });

  it('names every missing variable', () => {
    expect(() => infraEndpoints({ MONGO_URL: env.MONGO_URL })).toThrow(/KAFKA_BROKERS, PG_URL not set/);
  });
});

describe('mongoDatabaseUrl', () => {
  it('points MONGO_URL at one database and keeps its options', () => {
    expect(mongoDatabaseUrl('audit_1', { MONGO_URL: 'mongodb://127.0.0.1:27027/?directConnection=true' })).toBe(
      'mongodb://127.0.0.1:27027/audit_1?directConnection=true',
    );
  });

  it('rejects names MongoDB would refuse', () => {
    expect(() => mongoDatabaseUrl('a.b', { MONGO_URL: 'mongodb://127.0.0.1:27027/' })).toThrow(/not a usable/);
  });

  it('needs MONGO_URL', () => {
    expect(() => mongoDatabaseUrl('x', {})).toThrow(/MONGO_URL not set/);
  });
});
