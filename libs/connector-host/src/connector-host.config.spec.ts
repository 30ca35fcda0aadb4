import { z } from 'zod';
import { connectorConfigLoader } from './connector-host.config';

const load = connectorConfigLoader({
  defaultConnectorId: 'fake',
  env: z.object({ FAKE_URL: z.string().regex(/^fake:\/\//, { message: 'expected fake://...' }), FAKE_LIMIT: z.coerce.number().int().default(3) }),
  target: (env) => ({ url: env.FAKE_URL, limit: env.FAKE_LIMIT }),
});

describe('connectorConfigLoader', () => {
  it("defaults the host's variables and adds the target's configuration", () => {
    expect(load({ FAKE_URL: 'fake://x' })).toEqual({
      connectorId: 'fake',
      url: 'fake://x',
      limit: 3,
      retry: { maxAttempts: 5, baseDelayMs: 200, maxDelayMs: 10_000 },
    });
  });

  it("reads CONNECTOR_ID and the runner's retry variables", () => {
    const env = { FAKE_URL: 'fake://x', CONNECTOR_ID: 'fake-hr', CONNECTOR_MAX_ATTEMPTS: '2', CONNECTOR_RETRY_BASE_MS: '50', CONNECTOR_RETRY_MAX_MS: '500' };
    expect(load(env)).toMatchObject({ connectorId: 'fake-hr', retry: { maxAttempts: 2, baseDelayMs: 50, maxDelayMs: 500 } });
  });

  it("names the host's and the target's bad variables in one error, never their values", () => {
    const attempt = (): unknown => load({ FAKE_URL: 'http://user:hunter2@h', CONNECTOR_ID: 'Not An Id', CONNECTOR_RETRY_MAX_MS: '0' });
    expect(attempt).toThrow(/^invalid connector configuration: /);
    expect(attempt).toThrow(/CONNECTOR_ID/);
    expect(attempt).toThrow(/CONNECTOR_RETRY_MAX_MS/);
    expect(attempt).toThrow(/FAKE_URL/);
    expect(attempt).not.toThrow(/hunter2|Not An Id/);
  });

  it('the target cannot shadow the connector id the topics are named after', () => {
    const shadowing = connectorConfigLoader({ defaultConnectorId: 'fake', env: z.object({}), target: () => ({ connectorId: 'other' }) });
    expect(shadowing({}).connectorId).toBe('fake');
  });

  it('refuses a default id that could not name a topic', () => {
    expect(() => connectorConfigLoader({ defaultConnectorId: 'Fake_1', env: z.object({}), target: () => ({}) })).toThrow(/Fake_1/);
  });
});
