import { Module } from '@nestjs/common';
import type { DynamicModule } from '@nestjs/common';
import type { EventRegistry } from '@grantline/contracts';
import type { Clock } from '@grantline/decider';
import { jsonConsoleLogger } from '@grantline/messaging';
import type { MessageBus, MessagingLogger } from '@grantline/messaging';
import { EVENT_REGISTRY, MESSAGE_BUS, STATE_SNAPSHOTS } from '@grantline/messaging-nest';
import type { StateSnapshotSettings } from '@grantline/messaging-nest';
import { CLOCK, JsonLogger } from '@grantline/service-kit';
import { createClock } from '../clock/clock.config';
import { SchedulerLifecycle } from './scheduler.lifecycle';
import { SchedulerRuntime } from './scheduler.runtime';
import { TestClockController } from './test-clock.controller';
import { TimerEventsController } from './timer-events.controller';
import { SCHEDULER_RUNTIME, TIMERS_CONFIG, timersConfigFromEnv } from './timers.config';
import type { TimersConfig } from './timers.config';
import { TimersController } from './timers.controller';

export interface TimersModuleOptions {
  /** Defaults to process.env. */
  readonly env?: NodeJS.ProcessEnv;
  /** Replaces the clock chosen by CLOCK (specs). */
  readonly clock?: Clock;
  readonly logger?: MessagingLogger;
}

/**
 * Durable timers: rebuilt by replay at start, fed live by `@EventPattern` handlers, fired by a bounded ticker
 * onto the schedule topic. Needs the messaging module's MESSAGE_BUS and EVENT_REGISTRY (global in the service kit)
 * and, for its HTTP routes, the kit's ApiAuthModule (bearer authentication, roles, recorded refusals). The test
 * clock's routes exist only in test mode.
 */
@Module({})
export class TimersModule {
  static forRoot(options: TimersModuleOptions = {}): DynamicModule {
    let config: TimersConfig;
    try {
      config = timersConfigFromEnv(options.env ?? process.env);
    } catch (error) {
      // Surface a bad CLOCK / SCHEDULER_TEST_MODE (or test mode in production) when Nest builds the app, so the
      // bootstrap logs it and the start fails, rather than at import.
      return {
        module: TimersModule,
        providers: [
          {
            provide: TIMERS_CONFIG,
            useFactory: (): never => {
              throw error;
            },
          },
        ],
      };
    }
    return {
      module: TimersModule,
      controllers: [TimerEventsController, TimersController, ...(config.testClockEnabled ? [TestClockController] : [])],
      providers: [
        { provide: TIMERS_CONFIG, useValue: config },
        { provide: CLOCK, useFactory: (): Clock => options.clock ?? createClock(config) },
        {
          provide: SCHEDULER_RUNTIME,
          inject: [MESSAGE_BUS, EVENT_REGISTRY, CLOCK, TIMERS_CONFIG, { token: JsonLogger, optional: true }, { token: STATE_SNAPSHOTS, optional: true }],
          useFactory: (
            bus: MessageBus,
            registry: EventRegistry,
            clock: Clock,
            timers: TimersConfig,
            serviceLogger?: JsonLogger,
            snapshots?: StateSnapshotSettings,
          ): SchedulerRuntime =>
            new SchedulerRuntime({
              bus,
              registry,
              clock,
              tickIntervalMs: timers.tickIntervalMs,
              tickBatchSize: timers.tickBatchSize,
              resumeClockFromLog: timers.mode === 'offset',
              // the service's JSON logger when the kit provides one, so these lines carry the service name
              logger: options.logger ?? serviceLogger?.withContext('timers') ?? jsonConsoleLogger,
              // the kit's snapshot store and settings (ADR 0037); absent or off: every start replays the whole log
              ...(snapshots ? { snapshots: { store: snapshots.store, minEvents: snapshots.minEvents, compactEveryMs: snapshots.compactEveryMs } } : {}),
            }),
        },
        SchedulerLifecycle,
      ],
      exports: [SCHEDULER_RUNTIME, CLOCK],
    };
  }
}
