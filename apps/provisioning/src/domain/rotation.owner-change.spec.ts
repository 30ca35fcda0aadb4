import {
  ConnectorCredentialRotated,
  ConnectorProvisioned,
  ConnectorProvisionRequested,
  ConnectorRotationFailed,
  ConnectorRotationRequested,
  GrantCredentialRotated,
  GrantRotationFailed,
  GrantRotationRequested,
  IdentityOwnerChanged,
  registry,
  topicOf,
} from '@grantline/contracts';
import type { Envelope, ProvisionRequestedData, RotationRequestedV2Data } from '@grantline/contracts';
import { foldEvents } from '@grantline/decider';
import { deciderSpec } from '@grantline/testing';
import { specEventId } from '../testing/event-id';
import { ProvisioningScenario, SCENARIO_EXPIRY } from '../testing/provisioning-scenario';
import { credentialHoldersOf, makeProvisioningDecider } from './provisioning.decider';

// Issue 14: when a machine identity's owner of record changes, the former owner may hold its secrets, so every active
// grant delivered as a credential is rotated with a replacement that only the new owner and the identity may retrieve.

const decider = makeProvisioningDecider({ registry, eventId: specEventId, maxAttempts: 2, connectorIds: ['credentials'] });
const given = deciderSpec(decider);
const machine = new ProvisioningScenario({
  connectorId: 'credentials',
  credential: 'short_lived_token',
  beneficiaryId: 'ci-release',
  account: 'ci_release',
  machineOwner: 'olga',
  entitlementId: 'ent-deploy',
  groupRole: 'deploy:orders',
});
const REQUEST = 'req-nhi';
const GRANT = machine.grantIdOf(REQUEST);
const AT = '2026-01-10T12:00:00.000Z';

const extend = (log: readonly Envelope[], ...inputs: Envelope[]): Envelope[] =>
  inputs.reduce<Envelope[]>((sofar, input) => [...sofar, input, ...decider.decide(input, foldEvents(decider, sofar))], [...log]);
const last = <T>(log: readonly Envelope[], type: string): T => [...log].reverse().find((event) => event.type === type)!.data as T;
const meta = (id: string, subject: string) => ({
  id,
  source: 'grantline/spec',
  time: AT,
  subject,
  correlationid: subject,
  actor: { kind: 'service' as const, id: 'spec' },
});

/** The connector issued the grant's first credential (id = grant id), valid until the grant's expiry. */
const provisionedWithCredential = (command: ProvisionRequestedData): Envelope =>
  registry.encode(
    ConnectorProvisioned,
    {
      commandId: command.commandId,
      connectorId: command.connectorId,
      grantId: command.grantId,
      idempotencyKey: command.idempotencyKey,
      completedAt: AT,
      alreadyApplied: false,
      credential: {
        credentialId: command.grantId,
        type: 'short_lived_token',
        credentialRef: `sealed://credentials/${command.grantId}`,
        fingerprint: `sha256:${'1'.repeat(64)}`,
        expiresAt: SCENARIO_EXPIRY,
      },
    },
    meta(`provisioned-${command.commandId}`, REQUEST),
  );

const ownerChanged = (previousOwnerId: string, newOwnerId: string, id = `owner-changed-${newOwnerId}`, identityId = 'ci-release'): Envelope =>
  registry.encode(IdentityOwnerChanged, { identityId, previousOwnerId, newOwnerId, reason: 'transfer', changedBy: newOwnerId }, meta(id, identityId));

const rotated = (command: RotationRequestedV2Data, fingerprintDigit = '2'): Envelope =>
  registry.encode(
    ConnectorCredentialRotated,
    {
      commandId: command.commandId,
      connectorId: command.connectorId,
      grantId: command.grantId,
      idempotencyKey: command.idempotencyKey,
      rotation: command.rotation,
      completedAt: AT,
      alreadyApplied: false,
      credential: {
        credentialId: command.credential!.credentialId,
        type: command.credential!.type,
        credentialRef: `sealed://credentials/${command.credential!.credentialId}`,
        fingerprint: `sha256:${fingerprintDigit.repeat(64)}`,
        expiresAt: command.credential!.expiresAt,
      },
    },
    meta(`rotated-${command.commandId}`, REQUEST),
  );

const rotationFailed = (command: RotationRequestedV2Data): Envelope =>
  registry.encode(
    ConnectorRotationFailed,
    {
      commandId: command.commandId,
      connectorId: command.connectorId,
      grantId: command.grantId,
      idempotencyKey: command.idempotencyKey,
      rotation: command.rotation,
      errorClass: 'retriable',
      code: 'unavailable',
      message: 'the credential ledger is unavailable',
      failedAt: AT,
    },
    meta(`failed-${command.commandId}`, REQUEST),
  );

/** An NHI's grant, active, delivered as a JWT that its owner olga and the NHI may retrieve. */
const activeWithCredential = (): Envelope[] => {
  const log = extend([], machine.catalog(), machine.identity(), machine.approved(REQUEST));
  return extend(log, provisionedWithCredential(last<ProvisionRequestedData>(log, ConnectorProvisionRequested.type)));
};

describe('provisioning: replacing the credentials of a machine identity whose owner changed', () => {
  it('given an active grant delivered as a credential, when the owner changes, then a replacement for the new owner and the NHI is asked for, ending when the old credential does', () => {
    given(activeWithCredential())
      .when(ownerChanged('olga', 'bob'))
      .thenAssert((events) => {
        expect(events.map((event) => event.type)).toEqual([GrantRotationRequested.type, ConnectorRotationRequested.type]);
        const replacement = { credentialId: `${GRANT}.r1`, type: 'short_lived_token', holders: ['bob', 'ci-release'], expiresAt: SCENARIO_EXPIRY };
        expect(events[0]!.data).toEqual({
          grantId: GRANT,
          connectorId: 'credentials',
          targetAccount: 'ci_release',
          reason: 'owner_changed',
          rotation: 1,
          idempotencyKey: `${GRANT}:rotate`,
          attempt: 1,
          triggeredBy: 'owner-changed-bob',
          credential: replacement,
        });
        expect(events[1]!.data).toEqual({
          commandId: `${GRANT}:rotate:1`,
          connectorId: 'credentials',
          grantId: GRANT,
          targetAccount: 'ci_release',
          entitlementRef: 'deploy:orders',
          reason: 'owner_changed',
          rotation: 1,
          idempotencyKey: `${GRANT}:rotate`,
          credential: replacement,
        });
        expect(topicOf(ConnectorRotationRequested, events[1]!.data as RotationRequestedV2Data)).toBe('iga.connectors.credentials.commands.v1');
      });
  });

  it('given the owner change already acted on, when it is delivered again, then nothing more is rotated', () => {
    const log = extend(activeWithCredential(), ownerChanged('olga', 'bob'));
    given(log).when(ownerChanged('olga', 'bob')).thenNothing();
  });

  it('given the replacement issued, then the grant records the new credential (reference and fingerprint), and a second owner change replaces that one (rotation 2)', () => {
    const log = extend(activeWithCredential(), ownerChanged('olga', 'bob'));
    const first = last<RotationRequestedV2Data>(log, ConnectorRotationRequested.type);
    given(log)
      .when(rotated(first))
      .thenMatches([
        {
          type: GrantCredentialRotated.type,
          data: {
            grantId: GRANT,
            rotation: 1,
            alreadyApplied: false,
            credential: { credentialId: `${GRANT}.r1`, credentialRef: `sealed://credentials/${GRANT}.r1`, fingerprint: `sha256:${'2'.repeat(64)}` },
          },
        },
      ]);
    const after = extend(log, rotated(first));
    expect(foldEvents(decider, after).grant(GRANT)?.credential).toEqual({ credentialId: `${GRANT}.r1`, type: 'short_lived_token', expiresAt: SCENARIO_EXPIRY });
    given(after)
      .when(ownerChanged('bob', 'carol'))
      .thenMatches([
        {
          type: GrantRotationRequested.type,
          data: { rotation: 2, idempotencyKey: `${GRANT}.r2:rotate`, credential: { credentialId: `${GRANT}.r2`, holders: ['carol', 'ci-release'] } },
        },
        { type: ConnectorRotationRequested.type, data: { commandId: `${GRANT}.r2:rotate:1`, rotation: 2 } },
      ]);
  });

  it('given a rotation whose first attempt failed retriably, then the same replacement is asked for again (attempt 2); an earlier answer is stale', () => {
    const log = extend(activeWithCredential(), ownerChanged('olga', 'bob'));
    const first = last<RotationRequestedV2Data>(log, ConnectorRotationRequested.type);
    given(log)
      .when(rotationFailed(first))
      .thenMatches([
        { type: GrantRotationFailed.type, data: { terminal: false, attempts: 1 } },
        {
          type: GrantRotationRequested.type,
          data: { rotation: 1, attempt: 2, triggeredBy: 'owner-changed-bob', credential: { holders: ['bob', 'ci-release'] } },
        },
        {
          type: ConnectorRotationRequested.type,
          data: { commandId: `${GRANT}:rotate:2`, entitlementRef: 'deploy:orders', credential: { credentialId: `${GRANT}.r1` } },
        },
      ]);
    given(extend(log, rotationFailed(first)))
      .when(rotated(first))
      .thenNothing();
  });

  it('given the owner changed, then later credentials of the machine identity go to the new owner', () => {
    const state = foldEvents(decider, extend(activeWithCredential(), ownerChanged('olga', 'bob')));
    expect(credentialHoldersOf('ci-release', state)).toEqual(['bob', 'ci-release']);
  });

  it('given a grant with no credential, or a revoked one, or another identity, when the owner changes, then nothing is rotated', () => {
    const plain = new ProvisioningScenario({
      connectorId: 'credentials',
      beneficiaryId: 'ci-release',
      account: 'ci_release',
      machineOwner: 'olga',
      entitlementId: 'ent-deploy',
      groupRole: 'deploy:orders',
    });
    let plainLog = extend([], plain.catalog(), plain.identity(), plain.approved(REQUEST));
    plainLog = extend(plainLog, plain.provisioned(last<ProvisionRequestedData>(plainLog, ConnectorProvisionRequested.type)));
    given(plainLog).when(ownerChanged('olga', 'bob')).thenNothing();

    const revoked = extend(activeWithCredential(), machine.expired(GRANT));
    given(revoked).when(ownerChanged('olga', 'bob')).thenNothing();

    given(activeWithCredential())
      .when(ownerChanged('olga', 'bob', 'owner-changed-other', 'ci-other'))
      .thenNothing();
  });
});
