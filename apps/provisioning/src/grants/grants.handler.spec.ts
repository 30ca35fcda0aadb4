import { registry } from '@grantline/contracts';
import type { Envelope } from '@grantline/contracts';
import type { MessageBus } from '@grantline/messaging';
import type { KafkaEventContext } from '@grantline/messaging-nest';
import { ProvisioningScenario } from '../testing/provisioning-scenario';
import { GrantsHandler } from './grants.handler';
import { ProvisioningStateService } from './provisioning-state.service';

const scenario = new ProvisioningScenario();
const at = (topic: string, offset: number): KafkaEventContext =>
  ({ message: { topic, partition: 0, offset: String(offset), key: null, groupId: 'spec', attempt: 1, heartbeat: async () => undefined } }) as KafkaEventContext;

/** A bus whose log holds `events` (for the start-up replay) and nothing else, one partition per topic. */
function busWith(events: readonly Envelope[]): MessageBus {
  return {
    ensureTopics: async () => undefined,
    replay: async ({
      topics,
      handler,
    }: {
      topics: readonly string[];
      handler: (event: Envelope, position: { topic: string; partition: number; offset: string }) => Promise<void>;
    }) => {
      let handled = 0;
      for (const topic of topics) {
        const onTopic = events.filter((event) => registry.definitionOf(event.type).topic === topic);
        for (const [offset, event] of onTopic.entries()) await handler(event, { topic, partition: 0, offset: String(offset) });
        handled += onTopic.length;
      }
      return handled;
    },
    // The log holds the replayed events only: the state is fresh once they are folded.
    endOffsets: async (topics: readonly string[]) =>
      topics.map((topic) => ({ topic, partition: 0, end: String(events.filter((event) => registry.definitionOf(event.type).topic === topic).length) })),
  } as unknown as MessageBus;
}

function handlerOn(log: readonly Envelope[]): { handler: GrantsHandler; stateService: ProvisioningStateService } {
  const stateService = new ProvisioningStateService(busWith(log), registry);
  const handler = new GrantsHandler(stateService, { connectorIds: ['postgres'], maxAttempts: 3 }, registry);
  return { handler, stateService };
}

describe('GrantsHandler', () => {
  it('decides on the state replayed at start: an approval already granted on the log sends nothing', async () => {
    const fresh = handlerOn([scenario.catalog(), scenario.identity()]);
    const outputs = await fresh.handler.onCommand(scenario.approved('req-1'), at('iga.approvals.v1', 5));
    expect(outputs).toHaveLength(3);
    const restarted = handlerOn([scenario.catalog(), scenario.identity(), ...outputs.filter((event) => event.type.startsWith('iga.grant.'))]);
    expect(await restarted.handler.onCommand(scenario.approved('req-1'), at('iga.approvals.v1', 5))).toEqual([]);
    expect(restarted.stateService.state.grant(scenario.grantIdOf('req-1'))?.status).toBe('provisioning');
  });

  it('a message redelivered at the same offset (its transaction aborted) gets the same events again; a copy elsewhere gets none', async () => {
    const { handler } = handlerOn([scenario.catalog(), scenario.identity()]);
    const first = await handler.onCommand(scenario.approved('req-2'), at('iga.approvals.v1', 7));
    expect(first).toHaveLength(3);
    expect(await handler.onCommand(scenario.approved('req-2'), at('iga.approvals.v1', 7))).toEqual(first);
    expect(await handler.onCommand(scenario.approved('req-2'), at('iga.approvals.v1', 8))).toEqual([]);
  });

  it('skips a live catalogue or identity event the start-up replay already applied', async () => {
    const { handler, stateService } = handlerOn([scenario.identity()]);
    await stateService.whenLoaded();
    const renamed = new ProvisioningScenario({ account: 'someone_else' }).identity('identity-v2');
    // replayed offset 0 of the identities topic: a live copy at offset 0 is old news, offset 1 is new
    await handler.onStateEvent(renamed, at('iga.identities.v1', 0));
    expect(stateService.state.identity(scenario.beneficiaryId)?.attributes).toEqual({ 'account.postgres': 'ada' });
    await handler.onStateEvent(renamed, at('iga.identities.v1', 1));
    expect(stateService.state.identity(scenario.beneficiaryId)?.attributes).toEqual({ 'account.postgres': 'someone_else' });
  });
});
