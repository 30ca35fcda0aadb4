import { randomBytes } from 'node:crypto';
import { runFixture } from './run-fixture';

function infraEnv(): { KAFKA_BROKERS: string; MONGO_URL: string } {
  const { KAFKA_BROKERS, MONGO_URL } = process.env;
  if (!KAFKA_BROKERS || !MONGO_URL) {
    throw new Error('KAFKA_BROKERS and MONGO_URL must be set: run integration specs through `npm test` (jest global setup)');
  }
  return { KAFKA_BROKERS, MONGO_URL };
}

describe('bootstrapService as a process', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)('on %s stops consuming, drains and exits 0', async (signal) => {
    const fixture = runFixture({
      ...infraEnv(),
      PORT: '0',
      MONGO_DB: `sk_boot_${randomBytes(4).toString('hex')}`,
      SHUTDOWN_TIMEOUT_MS: '15000',
    });
    try {
      const ready = await fixture.waitForRecord((record) => record['msg'] === 'ready', 45_000);
      const response = await fetch(`${String(ready['url'])}/health/ready`);
      expect(response.status).toBe(200);

      fixture.child.kill(signal);
      expect(await fixture.exited).toEqual({ code: 0, signal: null });
      expect(fixture.records()).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ msg: 'shutting down', signal }),
          expect.objectContaining({ msg: 'stopped', ms: expect.any(Number) }),
        ]),
      );
    } finally {
      if (fixture.child.exitCode === null && fixture.child.signalCode === null) fixture.child.kill('SIGKILL');
    }
  });
});
