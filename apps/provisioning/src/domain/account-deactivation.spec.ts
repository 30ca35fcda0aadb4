import {
  ConnectorAccountDeactivated,
  ConnectorAccountDeactivationFailed,
  ConnectorAccountDeactivationRequested,
  ConnectorDeprovisionRequested,
  ConnectorProvisionRequested,
  GrantAccountDeactivated,
  GrantAccountDeactivationFailed,
  GrantAccountDeactivationRequested,
  GrantDeprovisioningRequested,
  registry,
} from '@grantline/contracts';
import type { AccountDeactivationCommandData, DeprovisionRequestedData, Envelope, ProvisionRequestedData } from '@grantline/contracts';
import { foldEvents } from '@grantline/decider';
import { deciderSpec } from '@grantline/testing';
import { specEventId } from '../testing/event-id';
import { ProvisioningScenario, SCENARIO_TIME } from '../testing/provisioning-scenario';
import { makeProvisioningDecider } from './provisioning.decider';

// A leaver's account is deactivated beside the revocation of its grants, once per connector whose system says so in
// the catalogue (`deactivateLeaverAccounts`), retried like a revocation, and never asked twice.

const decider = makeProvisioningDecider({ registry, eventId: specEventId, maxAttempts: 2, connectorIds: ['scim', 'postgres'] });
const given = deciderSpec(decider);
const types = (events: readonly Envelope[]): string[] => events.map((event) => event.type);

const crm = new ProvisioningScenario({ connectorId: 'scim', entitlementId: 'crm-sales', groupRole: 'grantline-crm-sales', deactivateLeaverAccounts: true });
const db = new ProvisioningScenario({ connectorId: 'postgres', entitlementId: 'orders-read' });
const meta = (id: string, subject: string) => ({
  id,
  source: 'grantline/spec',
  time: SCENARIO_TIME,
  subject,
  correlationid: subject,
  actor: { kind: 'service' as const, id: 'connector-scim' },
});

/** The log after the scenario's grants reached `active`, one per request. */
function withActiveGrants(scenario: ProvisioningScenario, ...requestIds: string[]): Envelope[] {
  const log: Envelope[] = [scenario.catalog(), scenario.identity()];
  for (const requestId of requestIds) {
    const decided = decider.decide(scenario.approved(requestId), foldEvents(decider, log));
    log.push(scenario.approved(requestId), ...decided);
    const command = decided.find((event) => event.type === ConnectorProvisionRequested.type)?.data as ProvisionRequestedData;
    const provisioned = scenario.provisioned(command);
    log.push(provisioned, ...decider.decide(provisioned, foldEvents(decider, log)));
  }
  return log;
}

/** Runs `input` against the log and appends it and what it decided. */
function handle(log: Envelope[], input: Envelope): readonly Envelope[] {
  const decided = decider.decide(input, foldEvents(decider, log));
  log.push(input, ...decided);
  return decided;
}

const deactivationCommand = (events: readonly Envelope[]): AccountDeactivationCommandData =>
  events.find((event) => event.type === ConnectorAccountDeactivationRequested.type)?.data as AccountDeactivationCommandData;

const deactivated = (command: AccountDeactivationCommandData, id = `deactivated-${command.commandId}`): Envelope =>
  registry.encode(
    ConnectorAccountDeactivated,
    {
      commandId: command.commandId,
      connectorId: command.connectorId,
      identityId: command.identityId,
      idempotencyKey: command.idempotencyKey,
      completedAt: SCENARIO_TIME,
      alreadyApplied: false,
    },
    meta(id, command.identityId),
  );

const deactivationFailed = (command: AccountDeactivationCommandData, errorClass: 'retriable' | 'terminal', id = `failed-${command.commandId}`): Envelope =>
  registry.encode(
    ConnectorAccountDeactivationFailed,
    {
      commandId: command.commandId,
      connectorId: command.connectorId,
      identityId: command.identityId,
      idempotencyKey: command.idempotencyKey,
      errorClass,
      code: errorClass === 'retriable' ? 'unavailable' : 'permission_denied',
      message: 'the SCIM application said no',
      failedAt: SCENARIO_TIME,
    },
    meta(id, command.identityId),
  );

describe('a leaver whose account is in a system that deactivates leavers accounts', () => {
  it('has its grants revoked and, beside them, its account deactivated once for the connector, keyed by the identity', () => {
    // Given Ada holds two active CRM grants (one connector, one account)
    const log = withActiveGrants(crm, 'req-1', 'req-2');
    const offboarded = crm.offboarded();
    // When she is offboarded
    given(log)
      .when(offboarded)
      .thenAssert((events) => {
        // Then both grants are deprovisioned and one deactivation is asked of the SCIM connector, naming both grants
        expect(types(events).filter((type) => type === ConnectorDeprovisionRequested.type)).toHaveLength(2);
        const requested = events.filter((event) => event.type === GrantAccountDeactivationRequested.type);
        expect(requested).toHaveLength(1);
        expect(requested[0]).toMatchObject({
          subject: 'dev-ada',
          correlationid: 'dev-ada',
          causationid: offboarded.id,
          data: {
            identityId: 'dev-ada',
            connectorId: 'scim',
            targetAccount: 'ada',
            reason: 'offboarding',
            idempotencyKey: 'dev-ada:deactivate',
            attempt: 1,
            grantIds: [crm.grantIdOf('req-1'), crm.grantIdOf('req-2')],
            triggeredBy: offboarded.id,
          },
        });
        expect(deactivationCommand(events)).toEqual({
          commandId: 'dev-ada:deactivate:scim:1',
          connectorId: 'scim',
          identityId: 'dev-ada',
          targetAccount: 'ada',
          reason: 'offboarding',
          idempotencyKey: 'dev-ada:deactivate',
        });
      });
  });

  it('is deactivated also when its grant was already revoked (it had an account there)', () => {
    const log = withActiveGrants(crm, 'req-1');
    const revoke = handle(log, crm.revocation({ grantId: crm.grantIdOf('req-1') }));
    handle(log, crm.deprovisioned(revoke.find((event) => event.type === ConnectorDeprovisionRequested.type)?.data as DeprovisionRequestedData));
    given(log)
      .when(crm.offboarded())
      .thenAssert((events) => expect(types(events)).toEqual([GrantAccountDeactivationRequested.type, ConnectorAccountDeactivationRequested.type]));
  });

  it('is asked once: a redelivered or repeated offboarding asks nothing more', () => {
    const log = withActiveGrants(crm, 'req-1');
    handle(log, crm.offboarded());
    given(log).when(crm.offboarded()).thenNothing();
    given(log).when(crm.offboarded('dev-ada', 'offboarded-again')).thenNothing();
  });

  it('records the deactivation when the connector answers, and a repeated answer records nothing more', () => {
    const log = withActiveGrants(crm, 'req-1');
    const answer = deactivated(deactivationCommand(handle(log, crm.offboarded())));
    given(log)
      .when(answer)
      .thenMatches([
        {
          type: GrantAccountDeactivated.type,
          subject: 'dev-ada',
          data: { identityId: 'dev-ada', connectorId: 'scim', targetAccount: 'ada', alreadyApplied: false },
        },
      ]);
    handle(log, answer);
    given(log).when(answer).thenNothing();
    given(log).when(crm.offboarded('dev-ada', 'offboarded-again')).thenNothing();
  });

  it('retries a retriable failure with the next attempt, then gives up terminally after maxAttempts', () => {
    const log = withActiveGrants(crm, 'req-1');
    const first = deactivationCommand(handle(log, crm.offboarded()));
    const retried = handle(log, deactivationFailed(first, 'retriable'));
    expect(types(retried)).toEqual([GrantAccountDeactivationFailed.type, GrantAccountDeactivationRequested.type, ConnectorAccountDeactivationRequested.type]);
    expect(retried[0]?.data).toMatchObject({ retriable: true, terminal: false, attempts: 1 });
    const second = deactivationCommand(retried);
    expect(second.commandId).toBe('dev-ada:deactivate:scim:2');
    // A stale answer to the first attempt changes nothing.
    given(log).when(deactivated(first, 'late-answer')).thenNothing();
    given(log)
      .when(deactivationFailed(second, 'retriable'))
      .thenMatches([{ type: GrantAccountDeactivationFailed.type, data: { retriable: true, terminal: true, attempts: 2 } }]);
  });

  it('after a terminal failure, asks again once the connector reports it can read its target, and on a later offboarding', () => {
    const log = withActiveGrants(crm, 'req-1');
    const first = deactivationCommand(handle(log, crm.offboarded()));
    expect(handle(log, deactivationFailed(first, 'terminal'))[0]?.data).toMatchObject({ terminal: true, retriable: false, attempts: 1 });
    const report = crm.stateReported();
    given(log)
      .when(report)
      .thenAssert((events) => {
        expect(types(events)).toEqual([GrantAccountDeactivationRequested.type, ConnectorAccountDeactivationRequested.type]);
        expect(events[0]?.data).toMatchObject({ attempt: 2, triggeredBy: report.id, grantIds: [crm.grantIdOf('req-1')] });
      });
    given(log)
      .when(crm.offboarded('dev-ada', 'offboarded-again'))
      .thenAssert((events) => expect(deactivationCommand(events).commandId).toBe('dev-ada:deactivate:scim:2'));
  });
});

describe('a leaver whose grants are in systems that do not deactivate leavers accounts', () => {
  it('has its grants revoked and nothing deactivated', () => {
    given(withActiveGrants(db, 'req-db'))
      .when(db.offboarded())
      .thenAssert((events) => expect(types(events)).toEqual([GrantDeprovisioningRequested.type, ConnectorDeprovisionRequested.type]));
  });

  it('is not deactivated through a connector this instance does not command', () => {
    const elsewhere = makeProvisioningDecider({ registry, eventId: specEventId, maxAttempts: 2, connectorIds: ['postgres'] });
    const log = withActiveGrants(crm, 'req-1');
    expect(types(elsewhere.decide(crm.offboarded(), foldEvents(elsewhere, log)))).not.toContain(GrantAccountDeactivationRequested.type);
  });
});
