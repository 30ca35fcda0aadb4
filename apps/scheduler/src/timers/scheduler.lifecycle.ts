import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import type { BeforeApplicationShutdown, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { StateNotLoadedError, StateReadinessRegistry } from '@grantline/messaging';
import { SCHEDULER_RUNTIME } from './timers.config';
import type { SchedulerRuntime } from './scheduler.runtime';

/**
 * Rebuilds the timers by replay as the service starts, and stops ticking before Kafka disconnects on shutdown.
 * The HTTP port opens after the first replay: a healthy start serves rebuilt timers at once. A replay that fails
 * does not hold the start-up: the runtime retries it while readiness (the kit's StateReadinessRegistry) reports
 * the timers not loaded with the last error, live events wait and the timer routes answer 503.
 */
@Injectable()
export class SchedulerLifecycle implements OnApplicationBootstrap, OnModuleDestroy, BeforeApplicationShutdown {
  private readonly logger = new Logger('timers');

  constructor(
    @Inject(SCHEDULER_RUNTIME) private readonly runtime: SchedulerRuntime,
    @Optional() @Inject(StateReadinessRegistry) private readonly readiness?: StateReadinessRegistry,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.readiness?.register(this.runtime);
    void this.runtime.start().catch((error: unknown) => {
      // Stopped before it rebuilt: nothing to report.
      if (error instanceof StateNotLoadedError) return;
      this.logger.error({ msg: 'scheduler failed to start ticking after its rebuild', error: String(error) });
    });
    await this.runtime.whenRebuildAttempted();
  }

  /** Releases live handlers still waiting for a rebuild that will not come now (they are retried, not lost). */
  async onModuleDestroy(): Promise<void> {
    await this.runtime.close();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.runtime.stop();
  }
}
