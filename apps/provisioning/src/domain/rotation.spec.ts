import {
  ConnectorCredentialRotated,
  ConnectorDeprovisionRequested,
  ConnectorProvisionRequested,
  ConnectorRotationFailed,
  ConnectorRotationRequested,
  GrantCredentialRotated,
  GrantRevoked,
  GrantRotationFailed,
  GrantRotationRequested,
  registry,
  topicOf,
} from '@grantline/contracts';
import type { DeprovisionRequestedData, Envelope, ProvisionRequestedData, RotationRequestedV2Data } from '@grantline/contracts';
import { foldEvents } from '@grantline/decider';
import { deciderSpec } from '@grantline/testing';
import { specEventId } from '../testing/event-id';
import { ProvisioningScenario } from '../testing/provisioning-scenario';
import { makeProvisioningDecider } from './provisioning.decider';

const decider = makeProvisioningDecider({ registry, eventId: specEventId, maxAttempts: 2, connectorIds: ['postgres'] });
const given = deciderSpec(decider);
const scenario = new ProvisioningScenario();
const REQUEST = 'req-bg';
const GRANT = scenario.grantIdOf(REQUEST);
const AT = '2026-01-10T10:00:00.000Z';

/** Each input, then what was decided from it, as the service leaves the log (after `log`, the history so far). */
const extend = (log: readonly Envelope[], ...inputs: Envelope[]): Envelope[] =>
  inputs.reduce<Envelope[]>((sofar, input) => [...sofar, input, ...decider.decide(input, foldEvents(decider, sofar))], [...log]);
const run = (...inputs: Envelope[]): Envelope[] => extend([], ...inputs);
const last = <T>(log: readonly Envelope[], type: string): T => [...log].reverse().find((event) => event.type === type)!.data as T;

/** A grant provisioned and then revoked by its TTL: the log up to the connector's deprovisioned answer. */
const usedAndRevoked = (breakGlass: boolean): Envelope[] => {
  let log = run(scenario.catalog(), scenario.identity(), breakGlass ? scenario.breakGlass(REQUEST) : scenario.approved(REQUEST));
  log = extend(log, scenario.provisioned(last<ProvisionRequestedData>(log, ConnectorProvisionRequested.type)));
  log = extend(log, scenario.expired(GRANT));
  return [...log, scenario.deprovisioned(last<DeprovisionRequestedData>(log, ConnectorDeprovisionRequested.type))];
};

const rotationResult = (command: RotationRequestedV2Data, outcome: 'rotated' | 'retriable' | 'terminal'): Envelope => {
  const meta = {
    id: `${outcome}-${command.commandId}`,
    source: 'spec/connector',
    time: AT,
    subject: GRANT,
    correlationid: REQUEST,
    actor: { kind: 'service' as const, id: 'connector-postgres' },
  };
  const { commandId, connectorId, grantId, idempotencyKey, rotation } = command;
  if (outcome === 'rotated')
    return registry.encode(
      ConnectorCredentialRotated,
      { commandId, connectorId, grantId, idempotencyKey, rotation, completedAt: AT, alreadyApplied: false },
      meta,
    );
  return registry.encode(
    ConnectorRotationFailed,
    {
      commandId,
      connectorId,
      grantId,
      idempotencyKey,
      rotation,
      errorClass: outcome,
      code: outcome === 'retriable' ? 'unavailable' : 'permission_denied',
      message: 'target said no',
      failedAt: AT,
    },
    meta,
  );
};

describe('provisioning: rotating what a break-glass grant used once its use ended', () => {
  it('given a break-glass grant, when the connector confirms its revocation, then the grant is revoked and a rotation of its account is asked for, on the connector topic', () => {
    const history = usedAndRevoked(true);
    given(history.slice(0, -1))
      .when(history.at(-1)!)
      .thenAssert((events) => {
        expect(events.map((event) => event.type)).toEqual([GrantRevoked.type, GrantRotationRequested.type, ConnectorRotationRequested.type]);
        expect(events[1]!.data).toMatchObject({
          grantId: GRANT,
          targetAccount: 'ada',
          reason: 'break_glass_ended',
          idempotencyKey: `${GRANT}:rotate`,
          attempt: 1,
        });
        expect(events[2]!.data).toEqual({
          commandId: `${GRANT}:rotate:1`,
          connectorId: 'postgres',
          grantId: GRANT,
          targetAccount: 'ada',
          reason: 'break_glass_ended',
          rotation: 1,
          idempotencyKey: `${GRANT}:rotate`,
        });
        expect(topicOf(ConnectorRotationRequested, events[2]!.data as RotationRequestedV2Data)).toBe('iga.connectors.postgres.commands.v1');
      });
  });

  it('given a normal grant, when its revocation is confirmed, then nothing is rotated', () => {
    const history = usedAndRevoked(false);
    given(history.slice(0, -1))
      .when(history.at(-1)!)
      .thenAssert((events) => expect(events.map((event) => event.type)).toEqual([GrantRevoked.type]));
  });

  it('given a rotation asked for, when the connector rotated it, then the grant records the rotation, once', () => {
    const log = extend(usedAndRevoked(true).slice(0, -1), usedAndRevoked(true).at(-1)!);
    const rotated = rotationResult(last<RotationRequestedV2Data>(log, ConnectorRotationRequested.type), 'rotated');
    given(log)
      .when(rotated)
      .thenMatches([
        {
          type: GrantCredentialRotated.type,
          data: { grantId: GRANT, connectorId: 'postgres', targetAccount: 'ada', rotation: 1, rotatedAt: AT, alreadyApplied: false },
        },
      ]);
    given(extend(log, rotated)).when(rotated).thenNothing();
  });

  it('given a retriable failure, then it is tried again (attempt 2); at the last attempt the failure is terminal', () => {
    const log = extend(usedAndRevoked(true).slice(0, -1), usedAndRevoked(true).at(-1)!);
    const first = rotationResult(last<RotationRequestedV2Data>(log, ConnectorRotationRequested.type), 'retriable');
    given(log)
      .when(first)
      .thenMatches([
        { type: GrantRotationFailed.type, data: { terminal: false, attempts: 1, retriable: true } },
        { type: GrantRotationRequested.type, data: { attempt: 2 } },
        { type: ConnectorRotationRequested.type, data: { commandId: `${GRANT}:rotate:2` } },
      ]);
    const retried = extend(log, first);
    given(retried)
      .when(rotationResult(last<RotationRequestedV2Data>(retried, ConnectorRotationRequested.type), 'retriable'))
      .thenMatches([{ type: GrantRotationFailed.type, data: { terminal: true, attempts: 2 } }]);
    // The first attempt's late answer is stale now.
    given(retried)
      .when(rotationResult(last<RotationRequestedV2Data>(log, ConnectorRotationRequested.type), 'rotated'))
      .thenNothing();
  });

  it('given a terminal failure, then it is recorded as terminal at once', () => {
    const log = extend(usedAndRevoked(true).slice(0, -1), usedAndRevoked(true).at(-1)!);
    given(log)
      .when(rotationResult(last<RotationRequestedV2Data>(log, ConnectorRotationRequested.type), 'terminal'))
      .thenMatches([{ type: GrantRotationFailed.type, data: { terminal: true, retriable: false, code: 'permission_denied' } }]);
  });

  it('given the revocation confirmed twice, then the rotation is asked for once', () => {
    const log = extend(usedAndRevoked(true).slice(0, -1), usedAndRevoked(true).at(-1)!);
    given(log)
      .when(log.find((event) => event.type === 'iga.connector.deprovisioned.v1')!)
      .thenNothing();
  });
});
