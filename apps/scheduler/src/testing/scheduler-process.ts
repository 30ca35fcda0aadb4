/**
 * A scheduler in its own OS process, so a spec can SIGKILL it while it is firing and start another.
 * Simulated time runs fast and is continuous across processes: now = SPEC_SIM_START + (wall - realStart) * SPEC_SPEED,
 * where realStart is SPEC_REAL_START, or (when that is `now`) this process's start, printed first on stdout so the
 * next process can continue the same timeline. Starting the timeline here, not in the spec, keeps a slow process
 * start from eating the schedule.
 */
import type { Clock } from '@grantline/decider';
import { KafkaMessageBus, silentLogger } from '@grantline/messaging';
import { SchedulerRuntime } from '../timers/scheduler.runtime';
import { schedulerRegistryOn } from './spec-registry';

async function main(): Promise<void> {
  const env = (name: string): string => {
    const value = process.env[name];
    if (!value) throw new Error(`${name} is required`);
    return value;
  };
  const { registry } = schedulerRegistryOn(env('SPEC_PREFIX'));
  const simStart = Number(env('SPEC_SIM_START'));
  const realStart = env('SPEC_REAL_START') === 'now' ? Date.now() : Number(env('SPEC_REAL_START'));
  process.stdout.write(`${JSON.stringify({ realStart })}\n`);
  const speed = Number(env('SPEC_SPEED'));
  const clock: Clock = { now: () => new Date(simStart + (Date.now() - realStart) * speed) };
  const bus = new KafkaMessageBus({ clientId: 'scheduler-kill-spec', brokers: env('KAFKA_BROKERS').split(','), registry, logger: silentLogger });
  const runtime = new SchedulerRuntime({ bus, registry, clock, tickIntervalMs: 20, tickBatchSize: 20, logger: silentLogger });
  const rebuilt = await runtime.start();
  process.stdout.write(`${JSON.stringify(rebuilt)}\n`);
  // kept alive by the ticker's interval until killed
}

main().catch((error: unknown) => {
  process.stderr.write(`scheduler-process failed: ${String(error)}\n`);
  process.exit(1);
});
