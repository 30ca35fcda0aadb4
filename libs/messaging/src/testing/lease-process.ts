/**
 * A lease candidate in its own OS process, so a spec can SIGKILL the holder. Prints one line per change of its
 * lease: `standby`, `held` (with the time), `lost` (then exits 3, as a service does).
 */
import { KafkaLeaseElector } from '../kafka/kafka-lease';
import { silentLogger } from '../logger';

async function main(): Promise<void> {
  const env = (name: string): string => {
    const value = process.env[name];
    if (!value) throw new Error(`${name} is required`);
    return value;
  };
  const elector = new KafkaLeaseElector({
    clientId: 'lease-spec',
    brokers: env('KAFKA_BROKERS').split(','),
    namespace: env('SPEC_NAMESPACE'),
    sessionTimeoutMs: Number(env('SPEC_SESSION_TIMEOUT_MS')),
    logger: silentLogger,
  });
  const lease = await elector.campaign({ name: env('SPEC_LEASE'), instanceId: env('SPEC_INSTANCE') });
  lease.onLost((reason) => {
    process.stdout.write(`${JSON.stringify({ state: 'lost', reason })}\n`);
    process.exit(3);
  });
  process.stdout.write(`${JSON.stringify({ state: lease.status().state })}\n`);
  await lease.whenAcquired();
  process.stdout.write(`${JSON.stringify({ state: 'held', at: Date.now() })}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`);
  process.exit(1);
});
