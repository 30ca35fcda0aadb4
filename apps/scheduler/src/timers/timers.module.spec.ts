import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TimersModule } from './timers.module';

describe('TimersModule configuration', () => {
  beforeAll(() => Logger.overrideLogger(false));

  it('fails the app build in test mode with NODE_ENV=production, before anything is wired or connected', async () => {
    const module = TimersModule.forRoot({ env: { NODE_ENV: 'production', CLOCK: 'offset', SCHEDULER_TEST_MODE: 'true' } });
    // No controllers and no runtime: a refused configuration mounts nothing, not even the status route.
    expect(module.controllers).toBeUndefined();
    await expect(NestFactory.create(module, { logger: false, abortOnError: false })).rejects.toThrow(
      'SCHEDULER_TEST_MODE=true is refused with NODE_ENV=production',
    );
  });

  it('mounts the test clock only in test mode', () => {
    const controllersOf = (env: NodeJS.ProcessEnv): string[] => (TimersModule.forRoot({ env }).controllers ?? []).map((controller) => controller.name);
    expect(controllersOf({})).toEqual(['TimerEventsController', 'TimersController']);
    expect(controllersOf({ CLOCK: 'offset' })).toEqual(['TimerEventsController', 'TimersController']);
    expect(controllersOf({ CLOCK: 'offset', SCHEDULER_TEST_MODE: 'true' })).toEqual(['TimerEventsController', 'TimersController', 'TestClockController']);
  });
});
