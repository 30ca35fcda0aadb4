import { z } from 'zod';
import { isSecretLikeKey, withoutSecrets } from './no-secrets.schema';
import { IdSchema, IsoDurationSchema, isoDurationToMillis } from './primitives.schema';

describe('ISO-8601 durations', () => {
  it.each([
    ['PT8H', 8 * 3_600_000],
    ['P30D', 30 * 86_400_000],
    ['P1W', 7 * 86_400_000],
    ['P1DT12H', 36 * 3_600_000],
    ['PT90M', 90 * 60_000],
    ['PT1.5S', 1500],
  ])('given %s, then it lasts %d ms', (duration, ms) => {
    expect(isoDurationToMillis(duration)).toBe(ms);
    expect(IsoDurationSchema.safeParse(duration).success).toBe(true);
  });

  it.each(['-PT8H', 'PT0S', 'P0D', 'P1Y', 'P1M', 'PT', 'P', 'P1DT', '8h', 'pt8h', ' PT8H', 'P99999999999999999D'])(
    'given %p, then it is not a valid positive duration',
    (duration) => {
      expect(isoDurationToMillis(duration)).toBeUndefined();
      expect(IsoDurationSchema.safeParse(duration).success).toBe(false);
    },
  );
});

describe('ids', () => {
  it.each(['', 'a b', 'x'.repeat(201), 'tab\there'])('given %p, then it is not an id', (id) => {
    expect(IdSchema.safeParse(id).success).toBe(false);
  });

  it.each(['alice', 'alice@example.com', 'req-0001:ent-pg-orders-read', 'josé'])('given %p, then it is an id', (id) => {
    expect(IdSchema.safeParse(id).success).toBe(true);
  });
});

describe('secret screening', () => {
  it.each([
    'password',
    'passwd',
    'secret',
    'clientSecret',
    'client-secret',
    'token',
    'accessToken',
    'refresh_token',
    'privateKey',
    'apiKey',
    'api_key',
    'bearer',
    'credentialValue',
    'sessionKey',
  ])('given the key %p, then it looks like a secret', (key) => {
    expect(isSecretLikeKey(key)).toBe(true);
  });

  it.each([
    'credentialRef',
    'tokenRef',
    'apiKeyId',
    'secretName',
    'tokenFingerprint',
    'fingerprint',
    'credentialType',
    'tokenExpiresAt',
    'keyId',
    'secretPath',
  ])('given the key %p, then it is a reference, not a secret', (key) => {
    expect(isSecretLikeKey(key)).toBe(false);
  });

  it('given a nested secret inside loose data, then the issue names its full path', () => {
    const schema = withoutSecrets(z.object({ meta: z.record(z.string(), z.unknown()) }));

    const result = schema.safeParse({ meta: { connection: { password: 'x' } } });

    expect(result.success).toBe(false);
    expect(result.error?.issues.map((issue) => issue.path.join('.'))).toEqual(['meta.connection.password']);
  });

  it('given clean data, then the wrapped schema parses it unchanged', () => {
    const schema = withoutSecrets(z.strictObject({ credentialRef: z.string(), ttl: z.number().default(60) }));

    expect(schema.parse({ credentialRef: 'vault:kv/x' })).toEqual({ credentialRef: 'vault:kv/x', ttl: 60 });
  });
});
