import type { CommandBus } from '@nestjs/cqrs';
import { registry } from '@grantline/contracts';
import { InMemoryMessageBus } from '@grantline/messaging';
import { DEFAULT_APPROVAL_POLICY } from '../domain/approval.policy';
import { DEFAULT_DIRECTORY_WAIT_MS } from './approval.config';
import { ResumeRoutes } from './approval-commands';
import { ApprovalStateService } from './approval-state.service';

describe('ApprovalStateService resuming the routes after its replay', () => {
  it('given the resume failed once (its handler not registered yet), when asked again, then it tries again instead of failing for ever', async () => {
    const executed: unknown[] = [];
    let refusals = 1;
    const commands = {
      execute: async (command: unknown) => {
        executed.push(command);
        if (refusals-- > 0) throw new Error('No handler found for the command: "ResumeRoutes".');
      },
    } as unknown as CommandBus;
    const state = new ApprovalStateService(
      new InMemoryMessageBus({ registry }),
      registry,
      { policy: DEFAULT_APPROVAL_POLICY, directoryWaitMs: DEFAULT_DIRECTORY_WAIT_MS },
      commands,
    );

    await expect(state.whenLoaded()).rejects.toThrow(/No handler found/);
    await expect(state.whenLoaded()).resolves.toBeUndefined();
    await expect(state.whenLoaded()).resolves.toBeUndefined();

    expect(executed).toEqual([expect.any(ResumeRoutes), expect.any(ResumeRoutes)]);
    await state.onModuleDestroy();
  });
});
