import {
  ConnectorDeprovisionRequested,
  ConnectorProvisionRequested,
  GrantActivated,
  GrantCreated,
  GrantDeprovisioningRequested,
  GrantProvisioningFailed,
  GrantProvisioningRequested,
  GrantRevoked,
  isEvent,
  topicOf,
  registry,
} from '@grantline/contracts';
import type { DeprovisionRequestedData, Envelope, ProvisionRequestedData } from '@grantline/contracts';
import { specEventId } from '../testing/event-id';
import { ProvisioningScenario } from '../testing/provisioning-scenario';
import { decide } from './provisioning.decide';
import type { DecideOptions, Decision } from './provisioning.decide';
import { ProvisioningState } from './provisioning.state';

const options: DecideOptions = { registry, eventId: specEventId, maxAttempts: 3, connectorIds: ['postgres'] };
const scenario = new ProvisioningScenario();
const REQUEST = 'req-100';
const GRANT = scenario.grantIdOf(REQUEST);

/** Runs events through state + decide as the service does: inputs are decided, every output is folded back. */
class Given {
  readonly state = new ProvisioningState();

  constructor(events: readonly Envelope[]) {
    for (const event of events) this.when(event);
  }

  when(event: Envelope): Decision {
    this.state.apply(event);
    const decision = decide(event, this.state, options);
    for (const output of decision.events) this.state.apply(output);
    return decision;
  }
}

const given = (...events: Envelope[]): Given => new Given(events);
const types = (decision: Decision): string[] => decision.events.map((event) => event.type);
const commandOf = <T>(decision: Decision, type: string): T => {
  const found = decision.events.find((event) => event.type === type);
  if (!found) throw new Error(`no ${type} in ${types(decision).join(', ')}`);
  return found.data as T;
};
const provisionCommand = (decision: Decision): ProvisionRequestedData => commandOf(decision, ConnectorProvisionRequested.type);
const deprovisionCommand = (decision: Decision): DeprovisionRequestedData => commandOf(decision, ConnectorDeprovisionRequested.type);

/** A grant that reached `active`, and the command that got it there. */
function activeGrant(): { world: Given; command: ProvisionRequestedData } {
  const world = given(scenario.catalog(), scenario.identity());
  const command = provisionCommand(world.when(scenario.approved(REQUEST)));
  world.when(scenario.provisioned(command));
  return { world, command };
}

describe('provisioning decide/evolve', () => {
  describe('an approved request', () => {
    it('creates the grant, records the provisioning request and commands the connector', () => {
      const world = given(scenario.catalog(), scenario.identity());
      const decision = world.when(scenario.approved(REQUEST));
      expect(types(decision)).toEqual([GrantCreated.type, GrantProvisioningRequested.type, ConnectorProvisionRequested.type]);
      expect(decision.events[0]!.data).toMatchObject({ grantId: GRANT, connectorId: 'postgres', targetAccount: 'ada', systemId: 'sys-postgres', breakGlass: false });
      expect(provisionCommand(decision)).toMatchObject({
        grantId: GRANT,
        connectorId: 'postgres',
        targetAccount: 'ada',
        entitlementRef: 'grantline_orders_read',
        idempotencyKey: `${GRANT}:provision`,
        commandId: `${GRANT}:provision:1`,
      });
      expect(topicOf(ConnectorProvisionRequested, provisionCommand(decision))).toBe('iga.connectors.postgres.commands.v1');
      expect(world.state.grant(GRANT)?.status).toBe('provisioning');
    });

    it('keys every output by the request, stamps the cause and the cause time', () => {
      const approval = scenario.approved(REQUEST);
      const decision = given(scenario.catalog(), scenario.identity()).when(approval);
      for (const event of decision.events) {
        expect(event).toMatchObject({ subject: REQUEST, correlationid: REQUEST, causationid: approval.id, time: approval.time });
      }
    });

    it('delivered twice creates one grant and sends one command', () => {
      const world = given(scenario.catalog(), scenario.identity(), scenario.approved(REQUEST));
      expect(world.when(scenario.approved(REQUEST)).events).toEqual([]);
      expect(world.when(scenario.approved(REQUEST, 'another-id')).events).toEqual([]);
    });

    it('decided twice from the same state yields byte-identical events (deterministic ids)', () => {
      const first = given(scenario.catalog(), scenario.identity()).when(scenario.approved(REQUEST));
      const second = given(scenario.catalog(), scenario.identity()).when(scenario.approved(REQUEST));
      expect(second.events).toEqual(first.events);
    });

    it('derives the account from the identity id when the identity names none', () => {
      const decision = given(scenario.catalog()).when(scenario.approved(REQUEST));
      expect(provisionCommand(decision).targetAccount).toBe('dev_ada');
    });

    it('is skipped, with a reason, for an entitlement in no catalogue or a connector handled elsewhere', () => {
      expect(given().when(scenario.approved(REQUEST)).skipped).toEqual([expect.stringMatching(/not in any catalogue/)]);
      const other = new ProvisioningScenario({ connectorId: 'ldap' });
      const decision = given(other.catalog()).when(other.approved(REQUEST));
      expect(decision.events).toEqual([]);
      expect(decision.skipped).toEqual([expect.stringMatching(/connector ldap is not handled here/)]);
    });

    it('break-glass beside its approval creates one grant, marked break-glass', () => {
      const world = given(scenario.catalog(), scenario.identity());
      const decision = world.when(scenario.breakGlass(REQUEST));
      expect(decision.events[0]!.data).toMatchObject({ breakGlass: true });
      expect(world.when(scenario.approved(REQUEST)).events).toEqual([]);
    });
  });

  describe('connector results', () => {
    it('provisioned → grant activated, once', () => {
      const world = given(scenario.catalog(), scenario.identity());
      const command = provisionCommand(world.when(scenario.approved(REQUEST)));
      const decision = world.when(scenario.provisioned(command));
      expect(types(decision)).toEqual([GrantActivated.type]);
      expect(world.state.grant(GRANT)?.status).toBe('active');
      expect(world.when(scenario.provisioned(command)).events).toEqual([]);
      expect(world.when(scenario.approved(REQUEST)).events).toEqual([]);
    });

    it('a retriable failure re-commands with the next attempt until the attempts run out, then fails terminally (the notifier alerts on it)', () => {
      const world = given(scenario.catalog(), scenario.identity());
      let command = provisionCommand(world.when(scenario.approved(REQUEST)));
      for (const attempt of [2, 3]) {
        const retry = world.when(scenario.failed(command, 'provision', 'retriable'));
        expect(types(retry)).toEqual([GrantProvisioningFailed.type, GrantProvisioningRequested.type, ConnectorProvisionRequested.type]);
        expect(retry.events[0]!.data).toMatchObject({ terminal: false, retriable: true, attempts: attempt - 1 });
        command = provisionCommand(retry);
        expect(command.commandId).toBe(`${GRANT}:provision:${attempt}`);
        expect(command.idempotencyKey).toBe(`${GRANT}:provision`);
      }
      const exhausted = world.when(scenario.failed(command, 'provision', 'retriable'));
      expect(types(exhausted)).toEqual([GrantProvisioningFailed.type]);
      expect(exhausted.events[0]!.data).toMatchObject({ terminal: true, attempts: 3, operation: 'provision' });
      expect(world.state.grant(GRANT)?.status).toBe('failed');
    });

    it('a terminal failure fails the grant at once (the notifier alerts on it)', () => {
      const world = given(scenario.catalog(), scenario.identity());
      const command = provisionCommand(world.when(scenario.approved(REQUEST)));
      const decision = world.when(scenario.failed(command, 'provision', 'terminal'));
      expect(types(decision)).toEqual([GrantProvisioningFailed.type]);
      expect(decision.events[0]!.data).toMatchObject({ terminal: true, retriable: false, code: 'not_found', attempts: 1 });
      expect(world.state.grant(GRANT)?.status).toBe('failed');
    });

    it('a failure delivered twice, or one for an earlier attempt, is ignored', () => {
      const world = given(scenario.catalog(), scenario.identity());
      const first = provisionCommand(world.when(scenario.approved(REQUEST)));
      world.when(scenario.failed(first, 'provision', 'retriable'));
      expect(world.when(scenario.failed(first, 'provision', 'retriable')).events).toEqual([]);
      expect(world.when(scenario.provisioned(first)).events).toEqual([]);
    });

    it('a result for an unknown grant is ignored', () => {
      const command = provisionCommand(given(scenario.catalog()).when(scenario.approved(REQUEST)));
      expect(given(scenario.catalog()).when(scenario.provisioned(command)).events).toEqual([]);
    });
  });

  describe('removal', () => {
    const triggers: [string, () => Envelope, string][] = [
      ['the expiry timer', () => scenario.expired(GRANT), 'expiry'],
      ['a withdrawal of the request', () => scenario.withdrawn(REQUEST), 'withdrawal'],
      ['a revocation of the grant', () => scenario.revocation({ grantId: GRANT }), 'revocation'],
      ['a revocation of the request', () => scenario.revocation({ requestId: REQUEST }), 'revocation'],
      ['the beneficiary offboarded', () => scenario.offboarded(), 'offboarding'],
    ];

    it.each(triggers)('%s → deprovisioning requested + deprovision command; deprovisioned → revoked with the reason', (_name, trigger, reason) => {
      const { world } = activeGrant();
      const cause = trigger();
      const decision = world.when(cause);
      expect(types(decision)).toEqual([GrantDeprovisioningRequested.type, ConnectorDeprovisionRequested.type]);
      expect(decision.events[0]!.data).toMatchObject({ grantId: GRANT, reason, attempt: 1, triggeredBy: cause.id, idempotencyKey: `${GRANT}:deprovision` });
      const command = deprovisionCommand(decision);
      expect(command).toMatchObject({ targetAccount: 'ada', entitlementRef: 'grantline_orders_read', reason, commandId: `${GRANT}:deprovision:1` });
      expect(world.state.grant(GRANT)?.status).toBe('deprovisioning');
      // the same trigger again sends nothing
      expect(world.when(cause).events).toEqual([]);
      const revoked = world.when(scenario.deprovisioned(command));
      expect(types(revoked)).toEqual([GrantRevoked.type]);
      expect(revoked.events[0]!.data).toMatchObject({ grantId: GRANT, reason });
      expect(world.state.grant(GRANT)?.status).toBe('revoked');
      expect(world.when(scenario.deprovisioned(command)).events).toEqual([]);
      expect(world.when(cause).events).toEqual([]);
    });

    it('a break-glass grant expiring is removed with reason break_glass_ttl', () => {
      const world = given(scenario.catalog(), scenario.identity());
      world.when(scenario.provisioned(provisionCommand(world.when(scenario.breakGlass(REQUEST)))));
      expect(world.when(scenario.expired(GRANT)).events[0]!.data).toMatchObject({ reason: 'break_glass_ttl' });
    });

    it('offboarding removes every grant of the identity, and only theirs', () => {
      const world = given(scenario.catalog(), scenario.identity());
      for (const request of ['req-a', 'req-b']) world.when(scenario.provisioned(provisionCommand(world.when(scenario.approved(request)))));
      const someoneElse = new ProvisioningScenario({ beneficiaryId: 'dev-bob', account: 'bob' });
      world.when(someoneElse.identity());
      world.when(someoneElse.approved('req-c'));
      const decision = world.when(scenario.offboarded());
      const removed = decision.events.filter((event) => isEvent(event, GrantDeprovisioningRequested)).map((event) => (event.data as { grantId: string }).grantId);
      expect(removed.sort()).toEqual([scenario.grantIdOf('req-a'), scenario.grantIdOf('req-b')]);
      expect(world.state.grant(someoneElse.grantIdOf('req-c'))?.status).toBe('provisioning');
    });

    it('a withdrawal while provisioning is in flight deprovisions, and the late provisioned result changes nothing', () => {
      const world = given(scenario.catalog(), scenario.identity());
      const provision = provisionCommand(world.when(scenario.approved(REQUEST)));
      expect(types(world.when(scenario.withdrawn(REQUEST)))).toEqual([GrantDeprovisioningRequested.type, ConnectorDeprovisionRequested.type]);
      expect(world.when(scenario.provisioned(provision)).events).toEqual([]);
      expect(world.state.grant(GRANT)?.status).toBe('deprovisioning');
    });

    it('a failed grant is still deprovisioned on removal (the target may have applied it after all)', () => {
      const world = given(scenario.catalog(), scenario.identity());
      world.when(scenario.failed(provisionCommand(world.when(scenario.approved(REQUEST))), 'provision', 'terminal'));
      expect(types(world.when(scenario.expired(GRANT)))).toEqual([GrantDeprovisioningRequested.type, ConnectorDeprovisionRequested.type]);
    });

    it('deprovision failures retry, then leave the grant irrevocable (a terminal failure the notifier alerts on)', () => {
      const { world } = activeGrant();
      let command = deprovisionCommand(world.when(scenario.expired(GRANT)));
      for (const attempt of [2, 3]) {
        command = deprovisionCommand(world.when(scenario.failed(command, 'deprovision', 'retriable')));
        expect(command).toMatchObject({ commandId: `${GRANT}:deprovision:${attempt}`, reason: 'expiry' });
      }
      const decision = world.when(scenario.failed(command, 'deprovision', 'retriable'));
      expect(types(decision)).toEqual([GrantProvisioningFailed.type]);
      expect(decision.events[0]!.data).toMatchObject({ terminal: true, operation: 'deprovision' });
      expect(world.state.grant(GRANT)?.status).toBe('irrevocable');
      expect(world.when(scenario.expired(GRANT)).events).toEqual([]);
    });

    it('an expiry timer for an unknown grant, or another timer kind, does nothing', () => {
      expect(given(scenario.catalog()).when(scenario.expired('req-x:ent-y')).events).toEqual([]);
    });
  });

  describe('replay', () => {
    it('state rebuilt from the emitted events equals the live state', () => {
      const { world } = activeGrant();
      const emitted: Envelope[] = [];
      const live = given(scenario.catalog(), scenario.identity());
      for (const event of [scenario.approved(REQUEST)]) emitted.push(...live.when(event).events);
      const rebuilt = given(scenario.catalog(), scenario.identity(), ...emitted);
      expect(rebuilt.state.grant(GRANT)).toEqual(live.state.grant(GRANT));
      expect(world.state.grant(GRANT)?.status).toBe('active');
      // a rebuilt state recognises the approval as already handled
      expect(rebuilt.when(scenario.approved(REQUEST)).events).toEqual([]);
    });
  });
});
