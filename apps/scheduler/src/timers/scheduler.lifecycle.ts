import { Inject, Injectable } from '@nestjs/common';
import type { BeforeApplicationShutdown, OnApplicationBootstrap } from '@nestjs/common';
import { SCHEDULER_RUNTIME } from './timers.config';
import type { SchedulerRuntime } from './scheduler.runtime';

/**
 * Rebuilds the timers by replay before the service reports itself started (the HTTP port opens after this), and
 * stops ticking before Kafka disconnects on shutdown.
 */
@Injectable()
export class SchedulerLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown {
  constructor(@Inject(SCHEDULER_RUNTIME) private readonly runtime: SchedulerRuntime) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.runtime.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.runtime.stop();
  }
}
