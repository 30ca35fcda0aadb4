import { Logger } from '@nestjs/common';
import { registry } from '@grantline/contracts';
import type { MessageBus } from '@grantline/messaging';
import { StateNotLoadedError, StateReadinessRegistry } from '@grantline/messaging';
import type { Projection } from '../projections/projection';
import type { ReadModelStore } from '../persistence/read-model.store';
import { AuditCatchUp } from './audit-catch-up.service';
import type { AuditProjector } from './audit.projector';

const projection = { name: 'spec_projection' } as unknown as Projection;

/** A store whose database refuses the first `failures` attempts (MongoDB away), and has no checkpoints yet. */
function setup(failures: number) {
  let refusals = failures;
  const calls = { claims: 0, replays: 0 };
  const store = {
    projections: [projection],
    ensureIndexes: async () => undefined,
    claimLog: async () => {
      calls.claims += 1;
      if (refusals > 0) {
        refusals -= 1;
        throw new Error('MongoDB unavailable');
      }
    },
    hasCheckpoints: async () => false,
  } as unknown as ReadModelStore;
  const projector = {
    projections: [projection],
    fold: async () => undefined,
    flushIfFull: async () => undefined,
    flush: async () => undefined,
  } as unknown as AuditProjector;
  const bus = {
    logIdentity: async () => ({ clusterId: 'spec' }),
    replayBatches: async () => {
      calls.replays += 1;
      return 7;
    },
  } as unknown as MessageBus;
  const readiness = new StateReadinessRegistry();
  return { catchUp: new AuditCatchUp(bus, registry, store, projector, readiness), calls, readiness };
}

describe('AuditCatchUp', () => {
  beforeAll(() => Logger.overrideLogger(false));

  it('given a database that fails twice, then the read models are not ready after the first attempt and ready once one succeeds', async () => {
    const { catchUp, calls, readiness } = setup(2);
    // The start-up waits for the first attempt only
    await catchUp.onApplicationBootstrap();
    expect(catchUp.isReady()).toBe(false);
    expect(catchUp.lastError).toBe('Error: MongoDB unavailable');
    expect(readiness.notReady().map((state) => state.name)).toEqual(['audit read models']);
    // Live handlers wait for the same catch-up, which retries by itself
    expect(await catchUp.ensureCaughtUp()).toMatchObject({ replayed: true, events: 7 });
    expect(calls).toEqual({ claims: 3, replays: 1 });
    expect(catchUp.isReady()).toBe(true);
    expect(readiness.notReady()).toEqual([]);
    // ...and every later caller gets that report without another replay
    expect(await catchUp.ensureCaughtUp()).toMatchObject({ replayed: true, events: 7 });
    expect(calls.replays).toBe(1);
  });

  it('given a catch-up that never succeeds, when the service stops, then waiting handlers are released with a retriable error', async () => {
    const { catchUp } = setup(Number.POSITIVE_INFINITY);
    await catchUp.onApplicationBootstrap();
    const waiting = catchUp.ensureCaughtUp();
    await catchUp.onModuleDestroy();
    await expect(waiting).rejects.toBeInstanceOf(StateNotLoadedError);
    expect(catchUp.isReady()).toBe(false);
  });
});
