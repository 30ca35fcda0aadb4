import {
  ApprovalCertificationDecided,
  ConnectorAccountDeactivated,
  ConnectorAccountDeactivationRequested,
  ConnectorCredentialRotated,
  ConnectorDeprovisionRequested,
  ConnectorProvisioned,
  ConnectorProvisionRequested,
  ConnectorRotationRequested,
  IdentityOwnerChanged,
  IdentityOwnershipTransferOpened,
  registry,
} from '@grantline/contracts';
import type {
  AccountDeactivationCommandData,
  DeprovisionRequestedData,
  Envelope,
  EventDefinition,
  IdentityOwnershipTransferOpenedData,
  ProvisionRequestedData,
  RotationRequestedV2Data,
} from '@grantline/contracts';
import { encodeJsonParts, firstSliceOf, jsonFrame, markerOf, packSnapshot, slicesOf, SnapshotUnusableError, unpackSnapshot } from '@grantline/messaging';
import { ProvisioningState, makeProvisioningDecider } from '../domain';
import type { GrantState, ProvisioningStateParts } from '../domain';
import { specEventId } from '../testing/event-id';
import { ProvisioningScenario, SCENARIO_EXPIRY, SCENARIO_TIME } from '../testing/provisioning-scenario';
import { provisioningStateCodec as codec } from './provisioning-state.codec';

// The snapshot codec of the provisioning state (ADR 0037): a state restored from a snapshot must be the state the
// replay would have built, for every query the service makes and for every event folded after it.

const decider = makeProvisioningDecider({ registry, eventId: specEventId, maxAttempts: 2, connectorIds: ['postgres', 'scim', 'credentials'] });

const ordersRead = new ProvisioningScenario({ entitlementId: 'orders-read', groupRole: 'orders_read' });
const ordersReadV2 = new ProvisioningScenario({ entitlementId: 'orders-read', groupRole: 'orders_read_v2', catalogVersion: 2 });
const ordersWrite = new ProvisioningScenario({ entitlementId: 'orders-write', groupRole: 'orders_write', beneficiaryId: 'dev-bea', account: 'bea' });
const crm = new ProvisioningScenario({
  connectorId: 'scim',
  entitlementId: 'crm-sales',
  groupRole: 'crm-sales',
  beneficiaryId: 'sales-cy',
  account: 'cy',
  deactivateLeaverAccounts: true,
});
const release = new ProvisioningScenario({
  connectorId: 'credentials',
  credential: 'short_lived_token',
  entitlementId: 'ent-deploy',
  groupRole: 'deploy:orders',
  beneficiaryId: 'ci-release',
  account: 'ci_release',
  machineOwner: 'olga',
});
const artifacts = new ProvisioningScenario({
  connectorId: 'credentials',
  entitlementId: 'ent-artifacts',
  groupRole: 'artifacts:read',
  beneficiaryId: 'ci-deploy',
  account: 'ci_deploy',
  machineOwner: 'alice',
});

const meta = (id: string, subject: string) => ({
  id,
  source: 'grantline/spec',
  time: SCENARIO_TIME,
  subject,
  correlationid: subject,
  actor: { kind: 'service' as const, id: 'spec' },
});

/** The one `def` among `events`: the history is the one this spec means, or it fails here. */
function dataIn<T>(events: readonly Envelope[], def: Pick<EventDefinition, 'type'>): T {
  const found = events.find((event) => event.type === def.type);
  if (!found) throw new Error(`no ${def.type} in ${events.map((event) => event.type).join(', ')}`);
  return found.data as T;
}

/** The log as the service leaves it (each input, then what it decided), and its state folded as the service folds. */
class ServiceLog {
  readonly events: Envelope[] = [];
  /** Where the inputs sit in `events`: the service decides on them. */
  readonly inputs = new Set<number>();
  readonly state = new ProvisioningState();

  handle(input: Envelope): readonly Envelope[] {
    const decided = decider.decide(input, this.state);
    this.inputs.add(this.events.length);
    for (const event of [input, ...decided]) {
      this.events.push(event);
      this.state.apply(event);
    }
    return decided;
  }

  /** Approved, then provisioned by its connector: the grant is active. */
  activate(scenario: ProvisioningScenario, requestId: string): ProvisionRequestedData {
    const command = dataIn<ProvisionRequestedData>(this.handle(scenario.approved(requestId)), ConnectorProvisionRequested);
    this.handle(scenario.provisioned(command));
    return command;
  }

  /** Expired; the removal command it asked for. */
  expire(scenario: ProvisioningScenario, requestId: string): DeprovisionRequestedData {
    return dataIn<DeprovisionRequestedData>(this.handle(scenario.expired(scenario.grantIdOf(requestId))), ConnectorDeprovisionRequested);
  }
}

const provisionedWithCredential = (command: ProvisionRequestedData): Envelope =>
  registry.encode(
    ConnectorProvisioned,
    {
      commandId: command.commandId,
      connectorId: command.connectorId,
      grantId: command.grantId,
      idempotencyKey: command.idempotencyKey,
      completedAt: SCENARIO_TIME,
      alreadyApplied: false,
      credential: {
        credentialId: command.grantId,
        type: 'short_lived_token',
        credentialRef: `sealed://credentials/${command.grantId}`,
        fingerprint: `sha256:${'1'.repeat(64)}`,
        expiresAt: SCENARIO_EXPIRY,
      },
    },
    meta(`provisioned-${command.commandId}`, command.grantId),
  );

const rotated = (command: RotationRequestedV2Data): Envelope => {
  const { commandId, connectorId, grantId, idempotencyKey, rotation, credential } = command;
  return registry.encode(
    ConnectorCredentialRotated,
    {
      commandId,
      connectorId,
      grantId,
      idempotencyKey,
      rotation,
      completedAt: SCENARIO_TIME,
      alreadyApplied: false,
      ...(credential
        ? {
            credential: {
              credentialId: credential.credentialId,
              type: credential.type,
              credentialRef: `sealed://credentials/${credential.credentialId}`,
              fingerprint: `sha256:${'2'.repeat(64)}`,
              expiresAt: credential.expiresAt,
            },
          }
        : {}),
    },
    meta(`rotated-${commandId}`, grantId),
  );
};

const transferOpened = (identityId: string, previousOwnerId: string, grantsDisposition: IdentityOwnershipTransferOpenedData['grantsDisposition']): Envelope =>
  registry.encode(
    IdentityOwnershipTransferOpened,
    {
      transferId: `otr-${identityId}`,
      identityId,
      previousOwnerId,
      assigneeIds: ['maria'],
      dueAt: '2026-01-24T09:00:00.000Z',
      openedAt: SCENARIO_TIME,
      reason: 'owner_offboarded',
      grantsDisposition,
    },
    meta(`opened-otr-${identityId}`, identityId),
  );

const ownerChanged = (identityId: string, previousOwnerId: string, newOwnerId: string): Envelope =>
  registry.encode(
    IdentityOwnerChanged,
    { identityId, previousOwnerId, newOwnerId, reason: 'owner_offboarded', changedBy: newOwnerId },
    meta(`owner-changed-${identityId}-${newOwnerId}`, identityId),
  );

const expiryReduced = (grantId: string, newExpiresAt: string): Envelope =>
  registry.encode(
    ApprovalCertificationDecided,
    { campaignId: 'quarterly', itemId: `quarterly/${grantId}`, grantId, decision: 'reduce', newExpiresAt, reviewerId: 'bob', decidedAt: SCENARIO_TIME },
    meta(`reduced-${grantId}`, 'quarterly'),
  );

const accountDeactivated = (command: AccountDeactivationCommandData): Envelope =>
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
    meta(`deactivated-${command.commandId}`, command.identityId),
  );

/**
 * Three connectors, two catalogue versions (and a stale one delivered late), people and machine identities; grants
 * in every state a grant can reach; break-glass use and an owner change rotating credentials; an ownership transfer
 * case left open; a leaver whose grants are removed and whose account is deactivated.
 */
function realisticHistory(): ServiceLog {
  const log = new ServiceLog();
  for (const scenario of [ordersRead, ordersWrite, crm, release, artifacts]) {
    log.handle(scenario.catalog());
    log.handle(scenario.identity());
  }
  for (let i = 0; i < 12; i += 1) {
    const requestId = `req-orders-${i}`;
    const command = dataIn<ProvisionRequestedData>(log.handle(ordersRead.approved(requestId)), ConnectorProvisionRequested);
    if (i % 6 === 0) {
      log.handle(ordersRead.provisioned(command));
    } else if (i % 6 === 1) {
      const retry = dataIn<ProvisionRequestedData>(log.handle(ordersRead.failed(command, 'provision', 'retriable')), ConnectorProvisionRequested);
      log.handle(ordersRead.provisioned(retry));
    } else if (i % 6 === 2) {
      log.handle(ordersRead.failed(command, 'provision', 'terminal'));
    } else {
      log.handle(ordersRead.provisioned(command));
      const removal = log.expire(ordersRead, requestId);
      if (i % 6 === 3) log.handle(ordersRead.deprovisioned(removal));
      if (i % 6 === 4) log.handle(ordersRead.failed(removal, 'deprovision', 'terminal'));
      // i % 6 === 5: the removal is still waiting for its connector
    }
  }
  log.handle(expiryReduced(ordersRead.grantIdOf('req-orders-0'), '2026-01-10T18:00:00.000Z'));
  log.handle(ordersRead.approved('req-orders-waiting'));
  log.handle(ordersRead.approved('req-orders-withdrawn'));
  log.handle(ordersRead.withdrawn('req-orders-withdrawn'));

  log.activate(ordersRead, 'req-break-glass');
  const used = dataIn<ProvisionRequestedData>(log.handle(ordersRead.breakGlass('req-used')), ConnectorProvisionRequested);
  log.handle(ordersRead.provisioned(used));
  const usedRemoval = log.expire(ordersRead, 'req-used');
  log.handle(rotated(dataIn<RotationRequestedV2Data>(log.handle(ordersRead.deprovisioned(usedRemoval)), ConnectorRotationRequested)));

  for (const requestId of ['req-write-1', 'req-write-2', 'req-write-3']) log.activate(ordersWrite, requestId);

  const releaseCommand = dataIn<ProvisionRequestedData>(log.handle(release.approved('req-release')), ConnectorProvisionRequested);
  log.handle(provisionedWithCredential(releaseCommand));
  log.handle(transferOpened('ci-release', 'olga', 'keep_until_deadline'));
  log.handle(rotated(dataIn<RotationRequestedV2Data>(log.handle(ownerChanged('ci-release', 'olga', 'bob')), ConnectorRotationRequested)));

  log.activate(artifacts, 'req-artifacts');
  log.handle(transferOpened('ci-deploy', 'alice', 'keep_until_deadline'));

  log.activate(crm, 'req-crm-1');
  log.activate(crm, 'req-crm-2');
  const leaving = log.handle(crm.offboarded());
  for (const removal of leaving.filter((event) => event.type === ConnectorDeprovisionRequested.type))
    log.handle(crm.deprovisioned(removal.data as DeprovisionRequestedData));
  log.handle(accountDeactivated(dataIn<AccountDeactivationCommandData>(leaving, ConnectorAccountDeactivationRequested)));
  log.handle(ordersRead.offboarded('dev-gone'));

  log.handle(ordersReadV2.catalog());
  log.handle(ordersRead.catalog('catalog-1-redelivered'));
  log.activate(ordersRead, 'req-after-v2');
  return log;
}

/** Every id the history names, and some it does not. */
function idsOf(state: ProvisioningState) {
  const grants = [...state.allGrants()];
  const unique = (values: readonly string[]): string[] => [...new Set(values)];
  const entitlements = [...state.parts().entitlements].map(([, entitlement]) => entitlement);
  return {
    grants: unique([...grants.map((grant) => grant.grantId), 'req-unknown:orders-read']),
    requests: unique([...grants.map((grant) => grant.requestId), 'req-unknown']),
    identities: unique([...[...state.parts().identities].map(([id]) => id), ...grants.map((grant) => grant.beneficiaryId), 'dev-gone', 'nobody']),
    entitlements: unique([...entitlements.map((entitlement) => entitlement.entitlementId), 'ent-unknown']),
    connectors: unique([...entitlements.map((entitlement) => entitlement.connectorId), 'ldap']),
    systems: unique([...entitlements.map((entitlement) => entitlement.systemId), 'sys-unknown']),
  };
}

type Ids = ReturnType<typeof idsOf>;

/** What every query of ProvisioningView (and the service's own reads) answers, in the order it answers. */
function answers(state: ProvisioningState, ids: Ids) {
  return {
    size: state.size,
    allGrants: [...state.allGrants()],
    grant: ids.grants.map((id) => state.grant(id)),
    grantsOfRequest: ids.requests.map((id) => state.grantsOfRequest(id)),
    grantsOfBeneficiary: ids.identities.map((id) => state.grantsOfBeneficiary(id)),
    entitlement: ids.entitlements.map((id) => state.entitlement(id)),
    identity: ids.identities.map((id) => state.identity(id)),
    grantsOfConnector: ids.connectors.map((id) => state.grantsOfConnector(id)),
    entitlementsOfConnector: ids.connectors.map((id) => state.entitlementsOfConnector(id)),
    hasLeft: ids.identities.map((id) => state.hasLeft(id)),
    openOwnershipTransfer: ids.identities.map((id) => state.openOwnershipTransfer(id)),
    deactivatesLeaverAccounts: ids.systems.map((id) => state.deactivatesLeaverAccounts(id)),
    accountDeactivation: ids.identities.flatMap((identityId) => ids.connectors.map((connectorId) => state.accountDeactivation(identityId, connectorId))),
    accountDeactivationsOfConnector: ids.connectors.map((id) => state.accountDeactivationsOfConnector(id)),
  };
}

const positionOf = (offset: number) => ({ topic: 'iga.grants.v1', partition: 0, offset: String(offset) });

function foldedUpTo(events: readonly Envelope[], end: number): ProvisioningState {
  const state = new ProvisioningState();
  for (const event of events.slice(0, end)) state.apply(event);
  return state;
}

/** The state's frames, taken whole (`encode` hands them out lazily). */
function framesOf(state: ProvisioningState): Uint8Array[] {
  return [...codec.encode(state)];
}

async function restored(state: ProvisioningState): Promise<ProvisioningState> {
  const copy = codec.empty();
  await codec.decode(framesOf(state), copy);
  return copy;
}

/**
 * Deep equality of plain JSON values (answers, decided events), with Jest's diff when they differ: the loop below
 * compares hundreds of them, and equal JSON texts spare it the deep comparison.
 */
function expectSame(actual: unknown, expected: unknown): void {
  if (JSON.stringify(actual) !== JSON.stringify(expected)) expect(actual).toEqual(expected);
}

const history = realisticHistory();
/** Inputs decided on both states after each cut: every input is decided after many cuts, and the check stays linear. */
const DECISIONS_AFTER_CUT = 25;
const ids = idsOf(history.state);

describe('provisioning state snapshot codec', () => {
  it('given the realistic history, then it reaches every part of the state and every grant status a log can leave', () => {
    const parts = history.state.parts();
    const grants = [...parts.grants].map(([, grant]) => grant);

    // `requested` is never left standing: the decider asks for provisioning in the same step as it creates the grant.
    expect(new Set(grants.map((grant) => grant.status))).toEqual(new Set(['provisioning', 'active', 'deprovisioning', 'revoked', 'failed', 'irrevocable']));
    expect(grants.some((grant) => grant.rotation?.status === 'rotated' && grant.credential !== undefined)).toBe(true);
    expect(grants.some((grant) => grant.attempts.provision === 2)).toBe(true);
    expect(history.state.grant(ordersRead.grantIdOf('req-orders-0'))?.expiresAt).toBe('2026-01-10T18:00:00.000Z');
    expect([...parts.leavers]).toEqual(['sales-cy', 'dev-gone']);
    expect([...parts.ownershipTransfers].map(([id]) => id)).toEqual(['ci-deploy']);
    expect(history.state.identity('ci-release')).toMatchObject({ ownerId: 'bob' });
    expect([...parts.leaverAccountSystems]).toEqual([
      ['sys-postgres', { deactivate: false, catalogVersion: 2 }],
      ['sys-scim', { deactivate: true, catalogVersion: 1 }],
      ['sys-credentials', { deactivate: false, catalogVersion: 1 }],
    ]);
    expect(history.state.entitlement('orders-read')).toMatchObject({ externalRef: 'orders_read_v2', catalogVersion: 2 });
    expect(history.state.accountDeactivation('sales-cy', 'scim')).toMatchObject({ status: 'deactivated' });
  });

  it('given the state snapshotted after any event of the history, when the rest is folded into it and into the live state, then both answer every query and decide every input alike', async () => {
    const { events, inputs } = history;
    for (let cut = 0; cut <= events.length; cut += 1) {
      // Given the live state at the cut, and one restored from its snapshot
      const live = foldedUpTo(events, cut);
      const fromSnapshot = await restored(live);
      expectSame({ cut, answers: answers(fromSnapshot, ids) }, { cut, answers: answers(live, ids) });

      // When the rest of the log is folded into both (the restored one through the codec, as the compactor folds)
      const decidedLive: (readonly Envelope[])[] = [];
      const decidedFromSnapshot: (readonly Envelope[])[] = [];
      for (let at = cut; at < events.length; at += 1) {
        const event = events[at]!;
        if (inputs.has(at) && decidedLive.length < DECISIONS_AFTER_CUT) {
          decidedLive.push(decider.decide(event, live));
          decidedFromSnapshot.push(decider.decide(event, fromSnapshot));
        }
        live.apply(event);
        codec.apply(fromSnapshot, event, positionOf(at));
      }

      // Then they decided alike, are the same state, and the live one is the service's
      expectSame({ cut, decided: decidedFromSnapshot }, { cut, decided: decidedLive });
      expect(fromSnapshot).toStrictEqual(live);
      expectSame({ cut, answers: answers(fromSnapshot, ids) }, { cut, answers: answers(history.state, ids) });
    }
  });

  it('given the whole history folded through the codec, then it is the state the service folded as it went (the compactor builds the live state)', () => {
    const compacted = codec.empty();
    history.events.forEach((event, at) => codec.apply(compacted, event, positionOf(at)));

    expect(compacted).toStrictEqual(history.state);
  });

  it('given a snapshot packed into stored chunks and unpacked again, when decoded, then it is the state it was taken of', async () => {
    const packed = await packSnapshot(framesOf(history.state), 1024);
    const frames = await unpackSnapshot({ sha256: packed.sha256, bytes: packed.bytes, chunks: packed.chunks.length }, packed.chunks);

    const state = codec.empty();
    await codec.decode(frames, state);

    expect(packed.chunks.length).toBeGreaterThan(1);
    expect(state).toStrictEqual(history.state);
  });

  it('given 45,000 grants, when encoded, then they are sliced in frames of at most 20,000 entries, and decoded back whole and in order', async () => {
    const many = new ProvisioningState();
    const grant = history.state.grant(ordersRead.grantIdOf('req-orders-0')) as GrantState;
    const grants = Array.from({ length: 45_000 }, (_, i): [string, GrantState] => [`g-${i}`, { ...grant, grantId: `g-${i}`, requestId: `r-${i % 900}` }]);
    many.restore({ grants, entitlements: [], identities: [], leavers: [], ownershipTransfers: [], leaverAccountSystems: [], deactivations: [] });

    const frames = framesOf(many);
    const decoded = codec.empty();
    await codec.decode(frames, decoded);

    expect(slicesOf(frames, 'grants')).toBe(3);
    expect(decoded.grantsOfRequest('r-7').map((g) => g.grantId)).toEqual(many.grantsOfRequest('r-7').map((g) => g.grantId));
    expect([...decoded.allGrants()].map((g) => g.grantId)).toEqual(grants.map(([id]) => id));
  });

  describe('a snapshot it cannot use', () => {
    const good = (): Uint8Array[] => framesOf(history.state);
    const emptyParts: Record<keyof ProvisioningStateParts, unknown[]> = {
      grants: [],
      entitlements: [],
      identities: [],
      leavers: [],
      ownershipTransfers: [],
      leaverAccountSystems: [],
      deactivations: [],
    };
    const cases: [string, () => Uint8Array[], (error: unknown) => void][] = [
      [
        'a frame whose bytes are not JSON',
        () => {
          const frames = good();
          const grants = firstSliceOf(frames, 'grants');
          frames[grants] = Buffer.from(frames[grants]!).subarray(0, 10);
          return frames;
        },
        (error) => expect(error).toBeInstanceOf(SyntaxError),
      ],
      ['its last frame missing', () => good().slice(0, -1), (error) => expect(error).toBeInstanceOf(SnapshotUnusableError)],
      ['no frame at all', () => [], (error) => expect(error).toBeInstanceOf(SnapshotUnusableError)],
      [
        'the deactivations part left out',
        () => {
          const { deactivations: _left, ...rest } = emptyParts;
          return [...encodeJsonParts({ ...rest, grants: [...history.state.parts().grants] })];
        },
        (error) => expect(error).toEqual(new SnapshotUnusableError('it has no part named deactivations')),
      ],
      [
        'an entry that is not a [key, value] pair',
        () => [...encodeJsonParts({ ...emptyParts, grants: [...history.state.parts().grants], identities: [['dev-ada']] })],
        (error) => expect(error).toBeInstanceOf(SnapshotUnusableError),
      ],
      [
        'a grant that names no request',
        () => [...encodeJsonParts({ ...emptyParts, grants: [...history.state.parts().grants, ['g-x', { grantId: 'g-x', beneficiaryId: 'dev-ada' }]] })],
        (error) => expect(error).toBeInstanceOf(SnapshotUnusableError),
      ],
      [
        'a leaver that is not an id',
        () => [...encodeJsonParts({ ...emptyParts, leavers: [42] })],
        (error) => expect(error).toBeInstanceOf(SnapshotUnusableError),
      ],
      [
        'a part marker that is not JSON',
        () => {
          const frames = good();
          // It still opens with a brace, so it is read as a marker (the first frame, as the contents frame was).
          frames[markerOf(frames, 'grants')] = jsonFrame({ part: 'grants' }).subarray(0, 9);
          return frames;
        },
        (error) => expect(error).toBeInstanceOf(SyntaxError),
      ],
    ];

    it.each(cases)('given %s, when decoded, then it throws and the state it was decoding into still holds nothing', async (_name, frames, check) => {
      const into = codec.empty();
      let thrown: unknown;
      try {
        await codec.decode(frames(), into);
      } catch (error) {
        thrown = error;
      }

      expect(thrown).toBeDefined();
      check(thrown);
      expect(into).toStrictEqual(new ProvisioningState());
    });

    it('given a state that already holds something, when a snapshot is decoded into it, then it refuses and leaves the state as it was', async () => {
      const into = foldedUpTo(history.events, 12);
      const before = foldedUpTo(history.events, 12);

      await expect(codec.decode(framesOf(history.state), into)).rejects.toThrow('restored only into a state that holds nothing');
      expect(into).toStrictEqual(before);
    });
  });
});
