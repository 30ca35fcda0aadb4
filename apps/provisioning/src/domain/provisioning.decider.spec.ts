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
import { foldEvents } from '@grantline/decider';
import { deciderSpec } from '@grantline/testing';
import { specEventId } from '../testing/event-id';
import { ProvisioningScenario } from '../testing/provisioning-scenario';
import { makeProvisioningDecider } from './provisioning.decider';

const decider = makeProvisioningDecider({ registry, eventId: specEventId, maxAttempts: 3, connectorIds: ['postgres'] });
const given = deciderSpec(decider);
const scenario = new ProvisioningScenario();
const REQUEST = 'req-100';
const GRANT = scenario.grantIdOf(REQUEST);

/** The log as the service leaves it: each input, then the events decided from it. */
class Log {
  readonly events: Envelope[] = [];

  constructor(...inputs: Envelope[]) {
    for (const input of inputs) this.handle(input);
  }

  /** Handles one input as the service does and returns what was decided. */
  handle(input: Envelope): readonly Envelope[] {
    this.events.push(input);
    const decided = decider.decide(input, foldEvents(decider, this.events));
    this.events.push(...decided);
    return decided;
  }
}

const types = (events: readonly Envelope[]): string[] => events.map((event) => event.type);
const commandOf = <T>(events: readonly Envelope[], type: string): T => {
  const found = events.find((event) => event.type === type);
  if (!found) throw new Error(`no ${type} in ${types(events).join(', ')}`);
  return found.data as T;
};
const provisionCommand = (events: readonly Envelope[]): ProvisionRequestedData => commandOf(events, ConnectorProvisionRequested.type);
const deprovisionCommand = (events: readonly Envelope[]): DeprovisionRequestedData => commandOf(events, ConnectorDeprovisionRequested.type);
const explain = (history: readonly Envelope[], command: Envelope): readonly string[] => decider.explain(command, foldEvents(decider, history));

/** A grant that reached `active`, and the command that got it there. */
function activeGrant(): { log: Log; command: ProvisionRequestedData } {
  const log = new Log(scenario.catalog(), scenario.identity());
  const command = provisionCommand(log.handle(scenario.approved(REQUEST)));
  log.handle(scenario.provisioned(command));
  return { log, command };
}

describe('provisioning decider', () => {
  describe('an approved request', () => {
    it('creates the grant, records the provisioning request and commands the connector', () => {
      given([scenario.catalog(), scenario.identity()])
        .when(scenario.approved(REQUEST))
        .thenAssert((events, state) => {
          expect(types(events)).toEqual([GrantCreated.type, GrantProvisioningRequested.type, ConnectorProvisionRequested.type]);
          expect(events[0]!.data).toMatchObject({ grantId: GRANT, connectorId: 'postgres', targetAccount: 'ada', systemId: 'sys-postgres', breakGlass: false });
          expect(provisionCommand(events)).toMatchObject({
            grantId: GRANT,
            connectorId: 'postgres',
            targetAccount: 'ada',
            entitlementRef: 'grantline_orders_read',
            idempotencyKey: `${GRANT}:provision`,
            commandId: `${GRANT}:provision:1`,
          });
          expect(topicOf(ConnectorProvisionRequested, provisionCommand(events))).toBe('iga.connectors.postgres.commands.v1');
          expect(state.grant(GRANT)?.status).toBe('provisioning');
        });
    });

    it('keys every output by the request, stamps the cause and the cause time', () => {
      const approval = scenario.approved(REQUEST);
      given([scenario.catalog(), scenario.identity()])
        .when(approval)
        .thenAssert((events) => {
          for (const event of events) expect(event).toMatchObject({ subject: REQUEST, correlationid: REQUEST, causationid: approval.id, time: approval.time });
        });
    });

    it('delivered twice creates one grant and sends one command', () => {
      const log = new Log(scenario.catalog(), scenario.identity(), scenario.approved(REQUEST));
      given(log.events).when(scenario.approved(REQUEST)).thenNothing();
      given(log.events).when(scenario.approved(REQUEST, 'another-id')).thenNothing();
    });

    it('decided twice from the same state yields byte-identical events (deterministic ids)', () => {
      given([scenario.catalog(), scenario.identity()])
        .when(scenario.approved(REQUEST))
        .thenAssert((first) => given([scenario.catalog(), scenario.identity()]).when(scenario.approved(REQUEST)).then(first));
    });

    it('derives the account from the identity id when the identity names none', () => {
      given([scenario.catalog()])
        .when(scenario.approved(REQUEST))
        .thenAssert((events) => expect(provisionCommand(events).targetAccount).toBe('dev_ada'));
    });

    it('is skipped, with a reason, for an entitlement in no catalogue or a connector handled elsewhere', () => {
      expect(explain([], scenario.approved(REQUEST))).toEqual([expect.stringMatching(/not in any catalogue/)]);
      const other = new ProvisioningScenario({ connectorId: 'ldap' });
      given([other.catalog()]).when(other.approved(REQUEST)).thenNothing();
      expect(explain([other.catalog()], other.approved(REQUEST))).toEqual([expect.stringMatching(/connector ldap is not handled here/)]);
    });

    it('break-glass beside its approval creates one grant, marked break-glass', () => {
      given([scenario.catalog(), scenario.identity()])
        .when(scenario.breakGlass(REQUEST))
        .thenAssert((events) => expect(events[0]!.data).toMatchObject({ breakGlass: true }));
      given(new Log(scenario.catalog(), scenario.identity(), scenario.breakGlass(REQUEST)).events)
        .when(scenario.approved(REQUEST))
        .thenNothing();
    });
  });

  describe('an entitlement delivered as a credential', () => {
    const machine = new ProvisioningScenario({ credential: 'short_lived_token', beneficiaryId: 'ci-release', account: 'ci_release', machineOwner: 'olga' });
    const machineDecider = makeProvisioningDecider({ registry, eventId: specEventId, maxAttempts: 3, connectorIds: ['postgres'] });

    it('asks the connector for a credential that lives as long as the grant and goes to the machine identity and its owner only', () => {
      deciderSpec(machineDecider)([machine.catalog(), machine.identity()])
        .when(machine.approved(REQUEST))
        .thenAssert((events) => {
          // SCENARIO_TIME → SCENARIO_EXPIRY is one day.
          expect(provisionCommand(events).credential).toEqual({ type: 'short_lived_token', ttlSeconds: 86_400, holders: ['olga', 'ci-release'] });
        });
    });

    it('gives the credential of a person to that person alone', () => {
      const human = new ProvisioningScenario({ credential: 'database_role' });
      given([human.catalog(), human.identity()])
        .when(human.approved(REQUEST))
        .thenAssert((events) => expect(provisionCommand(events).credential).toEqual({ type: 'database_role', ttlSeconds: 86_400, holders: ['dev-ada'] }));
    });

    it('asks again on a retry, with the same holders', () => {
      const known = [machine.catalog(), machine.identity()];
      const approval = machine.approved(REQUEST);
      const decided = machineDecider.decide(approval, foldEvents(machineDecider, known));
      const first = provisionCommand(decided);
      const log = [...known, approval, ...decided];

      const retried = provisionCommand(machineDecider.decide(machine.failed(first, 'provision', 'retriable'), foldEvents(machineDecider, log)));

      expect(retried.commandId).toBe(`${first.grantId}:provision:2`);
      expect(retried.credential).toMatchObject({ type: 'short_lived_token', holders: ['olga', 'ci-release'] });
    });

    it('asks for no credential when the catalogue names none (a plain membership)', () => {
      given([scenario.catalog(), scenario.identity()])
        .when(scenario.approved(REQUEST))
        .thenAssert((events) => expect(provisionCommand(events).credential).toBeUndefined());
    });
  });

  describe('connector results', () => {
    it('provisioned → grant activated, once', () => {
      const log = new Log(scenario.catalog(), scenario.identity());
      const command = provisionCommand(log.handle(scenario.approved(REQUEST)));
      given(log.events)
        .when(scenario.provisioned(command))
        .thenAssert((events, state) => {
          expect(types(events)).toEqual([GrantActivated.type]);
          expect(state.grant(GRANT)?.status).toBe('active');
        });
      log.handle(scenario.provisioned(command));
      given(log.events).when(scenario.provisioned(command)).thenNothing();
      given(log.events).when(scenario.approved(REQUEST)).thenNothing();
    });

    it('a retriable failure re-commands with the next attempt until the attempts run out, then fails terminally (the notifier alerts on it)', () => {
      const log = new Log(scenario.catalog(), scenario.identity());
      let command = provisionCommand(log.handle(scenario.approved(REQUEST)));
      for (const attempt of [2, 3]) {
        given(log.events)
          .when(scenario.failed(command, 'provision', 'retriable'))
          .thenAssert((retry) => {
            expect(types(retry)).toEqual([GrantProvisioningFailed.type, GrantProvisioningRequested.type, ConnectorProvisionRequested.type]);
            expect(retry[0]!.data).toMatchObject({ terminal: false, retriable: true, attempts: attempt - 1 });
            expect(provisionCommand(retry).commandId).toBe(`${GRANT}:provision:${attempt}`);
            expect(provisionCommand(retry).idempotencyKey).toBe(`${GRANT}:provision`);
          });
        command = provisionCommand(log.handle(scenario.failed(command, 'provision', 'retriable')));
      }
      given(log.events)
        .when(scenario.failed(command, 'provision', 'retriable'))
        .thenAssert((exhausted, state) => {
          expect(types(exhausted)).toEqual([GrantProvisioningFailed.type]);
          expect(exhausted[0]!.data).toMatchObject({ terminal: true, attempts: 3, operation: 'provision' });
          expect(state.grant(GRANT)?.status).toBe('failed');
        });
    });

    it('a terminal failure fails the grant at once (the notifier alerts on it)', () => {
      const log = new Log(scenario.catalog(), scenario.identity());
      const command = provisionCommand(log.handle(scenario.approved(REQUEST)));
      given(log.events)
        .when(scenario.failed(command, 'provision', 'terminal'))
        .thenAssert((events, state) => {
          expect(types(events)).toEqual([GrantProvisioningFailed.type]);
          expect(events[0]!.data).toMatchObject({ terminal: true, retriable: false, code: 'not_found', attempts: 1 });
          expect(state.grant(GRANT)?.status).toBe('failed');
        });
    });

    it('a failure delivered twice, or one for an earlier attempt, is ignored', () => {
      const log = new Log(scenario.catalog(), scenario.identity());
      const first = provisionCommand(log.handle(scenario.approved(REQUEST)));
      log.handle(scenario.failed(first, 'provision', 'retriable'));
      given(log.events)
        .when(scenario.failed(first, 'provision', 'retriable'))
        .thenNothing();
      given(log.events).when(scenario.provisioned(first)).thenNothing();
      expect(explain(log.events, scenario.provisioned(first))).toEqual([`stale or unknown provisioned ${first.commandId}`]);
    });

    it('a result for an unknown grant is ignored', () => {
      const command = provisionCommand(new Log(scenario.catalog()).handle(scenario.approved(REQUEST)));
      given([scenario.catalog()]).when(scenario.provisioned(command)).thenNothing();
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
      const { log } = activeGrant();
      const cause = trigger();
      given(log.events)
        .when(cause)
        .thenAssert((events, state) => {
          expect(types(events)).toEqual([GrantDeprovisioningRequested.type, ConnectorDeprovisionRequested.type]);
          expect(events[0]!.data).toMatchObject({ grantId: GRANT, reason, attempt: 1, triggeredBy: cause.id, idempotencyKey: `${GRANT}:deprovision` });
          expect(deprovisionCommand(events)).toMatchObject({
            targetAccount: 'ada',
            entitlementRef: 'grantline_orders_read',
            reason,
            commandId: `${GRANT}:deprovision:1`,
          });
          expect(state.grant(GRANT)?.status).toBe('deprovisioning');
        });
      const command = deprovisionCommand(log.handle(cause));
      // the same trigger again sends nothing
      given(log.events).when(cause).thenNothing();
      given(log.events)
        .when(scenario.deprovisioned(command))
        .thenAssert((revoked, state) => {
          expect(types(revoked)).toEqual([GrantRevoked.type]);
          expect(revoked[0]!.data).toMatchObject({ grantId: GRANT, reason });
          expect(state.grant(GRANT)?.status).toBe('revoked');
        });
      log.handle(scenario.deprovisioned(command));
      given(log.events).when(scenario.deprovisioned(command)).thenNothing();
      given(log.events).when(cause).thenNothing();
    });

    it('a break-glass grant expiring is removed with reason break_glass_ttl', () => {
      const log = new Log(scenario.catalog(), scenario.identity());
      log.handle(scenario.provisioned(provisionCommand(log.handle(scenario.breakGlass(REQUEST)))));
      given(log.events)
        .when(scenario.expired(GRANT))
        .thenAssert((events) => expect(events[0]!.data).toMatchObject({ reason: 'break_glass_ttl' }));
    });

    it('offboarding removes every grant of the identity, and only theirs', () => {
      const log = new Log(scenario.catalog(), scenario.identity());
      for (const request of ['req-a', 'req-b']) log.handle(scenario.provisioned(provisionCommand(log.handle(scenario.approved(request)))));
      const someoneElse = new ProvisioningScenario({ beneficiaryId: 'dev-bob', account: 'bob' });
      log.handle(someoneElse.identity());
      log.handle(someoneElse.approved('req-c'));
      given(log.events)
        .when(scenario.offboarded())
        .thenAssert((events, state) => {
          const removed = events.filter((event) => isEvent(event, GrantDeprovisioningRequested)).map((event) => (event.data as { grantId: string }).grantId);
          expect(removed.sort()).toEqual([scenario.grantIdOf('req-a'), scenario.grantIdOf('req-b')]);
          expect(state.grant(someoneElse.grantIdOf('req-c'))?.status).toBe('provisioning');
        });
    });

    it('a withdrawal while provisioning is in flight deprovisions, and the late provisioned result changes nothing', () => {
      const log = new Log(scenario.catalog(), scenario.identity());
      const provision = provisionCommand(log.handle(scenario.approved(REQUEST)));
      given(log.events)
        .when(scenario.withdrawn(REQUEST))
        .thenAssert((events) => expect(types(events)).toEqual([GrantDeprovisioningRequested.type, ConnectorDeprovisionRequested.type]));
      log.handle(scenario.withdrawn(REQUEST));
      given(log.events)
        .when(scenario.provisioned(provision))
        .thenAssert((events, state) => {
          expect(events).toEqual([]);
          expect(state.grant(GRANT)?.status).toBe('deprovisioning');
        });
    });

    it('a failed grant is still deprovisioned on removal (the target may have applied it after all)', () => {
      const log = new Log(scenario.catalog(), scenario.identity());
      log.handle(scenario.failed(provisionCommand(log.handle(scenario.approved(REQUEST))), 'provision', 'terminal'));
      given(log.events)
        .when(scenario.expired(GRANT))
        .thenAssert((events) => expect(types(events)).toEqual([GrantDeprovisioningRequested.type, ConnectorDeprovisionRequested.type]));
    });

    it('deprovision failures retry, then leave the grant irrevocable (a terminal failure the notifier alerts on)', () => {
      const { log } = activeGrant();
      let command = deprovisionCommand(log.handle(scenario.expired(GRANT)));
      for (const attempt of [2, 3]) {
        command = deprovisionCommand(log.handle(scenario.failed(command, 'deprovision', 'retriable')));
        expect(command).toMatchObject({ commandId: `${GRANT}:deprovision:${attempt}`, reason: 'expiry' });
      }
      given(log.events)
        .when(scenario.failed(command, 'deprovision', 'retriable'))
        .thenAssert((events, state) => {
          expect(types(events)).toEqual([GrantProvisioningFailed.type]);
          expect(events[0]!.data).toMatchObject({ terminal: true, operation: 'deprovision' });
          expect(state.grant(GRANT)?.status).toBe('irrevocable');
        });
      log.handle(scenario.failed(command, 'deprovision', 'retriable'));
      // Giving up alerted, but the access may be live: the removal is never abandoned. A new trigger is a new attempt,
      // numbered after the last; the grant keeps the first trigger's reason.
      given(log.events)
        .when(scenario.revocation({ grantId: GRANT }))
        .thenAssert((events, state) => {
          expect(types(events)).toEqual([GrantDeprovisioningRequested.type, ConnectorDeprovisionRequested.type]);
          expect(events[1]!.data).toMatchObject({ commandId: `${GRANT}:deprovision:4`, reason: 'revocation' });
          expect(state.grant(GRANT)).toMatchObject({ status: 'deprovisioning', deprovisionReason: 'expiry' });
        });
    });

    it('an irrevocable grant is retried when its connector reports its target again, and a report of another connector does nothing', () => {
      const { log } = activeGrant();
      let command = deprovisionCommand(log.handle(scenario.expired(GRANT)));
      for (let attempt = 1; attempt <= 3; attempt++) {
        const decided = log.handle(scenario.failed(command, 'deprovision', 'retriable'));
        if (attempt < 3) command = deprovisionCommand(decided);
      }
      expect(foldEvents(decider, log.events).grant(GRANT)?.status).toBe('irrevocable');
      given(log.events)
        .when(scenario.stateReported([{ targetAccount: scenario.account, entitlementRef: scenario.groupRole }]))
        .thenMatches([
          { type: GrantDeprovisioningRequested.type },
          { type: ConnectorDeprovisionRequested.type, data: { commandId: `${GRANT}:deprovision:4`, reason: 'expiry' } },
        ]);
      given(log.events)
        .when(new ProvisioningScenario({ connectorId: 'ldap' }).stateReported())
        .thenNothing();
    });

    it('an expiry timer for an unknown grant, or another timer kind, does nothing', () => {
      given([scenario.catalog()]).when(scenario.expired('req-x:ent-y')).thenNothing();
    });
  });

  describe('replay', () => {
    it('state rebuilt from the emitted events equals the live state', () => {
      expect(foldEvents(decider, activeGrant().log.events).grant(GRANT)?.status).toBe('active');
      given([scenario.catalog(), scenario.identity()])
        .when(scenario.approved(REQUEST))
        .thenAssert((emitted, live) => {
          const rebuilt = [scenario.catalog(), scenario.identity(), ...emitted];
          expect(foldEvents(decider, rebuilt).grant(GRANT)).toEqual(live.grant(GRANT));
          // a rebuilt state recognises the approval as already handled
          given(rebuilt).when(scenario.approved(REQUEST)).thenNothing();
        });
    });

    it('evolve leaves the state it was given as it was', () => {
      const before = foldEvents(decider, new Log(scenario.catalog(), scenario.identity(), scenario.approved(REQUEST)).events);
      const revoked = given.state(before).when(scenario.withdrawn(REQUEST));
      revoked.thenAssert((_events, after) => expect(after.grant(GRANT)?.status).toBe('deprovisioning'));
      expect(before.grant(GRANT)?.status).toBe('provisioning');
    });
  });
});
