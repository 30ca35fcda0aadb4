import {
  ConnectorDeprovisionRequested,
  ConnectorProvisionRequested,
  GrantCreated,
  GrantDeprovisioningRequested,
  IdentityOwnerChanged,
  IdentityOwnershipTransferOpened,
  TimerFired,
  registry,
} from '@grantline/contracts';
import type { DeprovisionRequestedData, Envelope, IdentityOwnershipTransferOpenedData, ProvisionRequestedData } from '@grantline/contracts';
import { foldEvents } from '@grantline/decider';
import { deciderSpec } from '@grantline/testing';
import { specEventId } from '../testing/event-id';
import { ProvisioningScenario, SCENARIO_TIME } from '../testing/provisioning-scenario';
import { makeProvisioningDecider } from './provisioning.decider';

// Leaver cascade and NHI ownership, provisioning's part: nothing is provisioned for a beneficiary who has left or a
// machine identity frozen by an open ownership transfer case, whatever order the events come in; a frozen NHI's
// grants go when the case says so (now) or when its deadline passes unanswered.

const decider = makeProvisioningDecider({ registry, eventId: specEventId, maxAttempts: 3, connectorIds: ['postgres'] });
const given = deciderSpec(decider);
const types = (events: readonly Envelope[]): string[] => events.map((event) => event.type);

const person = new ProvisioningScenario();
const nhi = new ProvisioningScenario({ beneficiaryId: 'ci-deploy' });
const TRANSFER = 'otr-ci-deploy-1';
const DUE = '2026-01-24T09:00:00.000Z';

const meta = (id: string, subject: string, time = SCENARIO_TIME) => ({
  id,
  source: 'grantline/spec',
  time,
  subject,
  correlationid: subject,
  actor: { kind: 'service' as const, id: 'intake' },
});
const caseOpened = (grantsDisposition: IdentityOwnershipTransferOpenedData['grantsDisposition'], transferId = TRANSFER): Envelope =>
  registry.encode(
    IdentityOwnershipTransferOpened,
    {
      transferId,
      identityId: 'ci-deploy',
      previousOwnerId: 'alice',
      assigneeIds: ['maria'],
      dueAt: DUE,
      openedAt: SCENARIO_TIME,
      reason: 'owner_offboarded',
      grantsDisposition,
    },
    meta(`opened-${transferId}`, 'ci-deploy'),
  );
const ownerChanged = (): Envelope =>
  registry.encode(
    IdentityOwnerChanged,
    { identityId: 'ci-deploy', previousOwnerId: 'alice', newOwnerId: 'maria', reason: 'owner_offboarded', changedBy: 'maria' },
    meta('owner-changed-ci-deploy', 'ci-deploy'),
  );
const transferDue = (transferId = TRANSFER): Envelope =>
  registry.encode(
    TimerFired,
    {
      timerId: `ownership_transfer_due:${transferId}`,
      kind: 'ownership_transfer_due',
      dueAt: DUE,
      firedAt: DUE,
      target: { transferId, identityId: 'ci-deploy' },
    },
    meta(`timer-${transferId}`, 'ci-deploy', DUE),
  );

/** The log after the NHI's grant reached `active`. */
function nhiWithActiveGrant(): Envelope[] {
  const log: Envelope[] = [nhi.catalog(), nhi.identity()];
  const handle = (input: Envelope): readonly Envelope[] => {
    const decided = decider.decide(input, foldEvents(decider, log));
    log.push(input, ...decided);
    return decided;
  };
  const command = handle(nhi.approved('req-ci')).find((event) => event.type === ConnectorProvisionRequested.type)?.data as ProvisionRequestedData;
  handle(nhi.provisioned(command));
  return log;
}
const deprovisioningReason = (events: readonly Envelope[]): string | undefined =>
  (events.find((event) => event.type === ConnectorDeprovisionRequested.type)?.data as DeprovisionRequestedData | undefined)?.reason;

describe('provisioning refuses to provision for a beneficiary who has left', () => {
  it('creates nothing when the approval arrives after the offboarding, and says why', () => {
    // Given Ada was offboarded, when an approval for her (decided before she left) reaches provisioning
    const history = [person.catalog(), person.identity(), person.offboarded()];
    given(history)
      .when(person.approved('req-late'))
      // Then no grant is created and no connector is commanded
      .thenNothing();
    expect(decider.explain(person.approved('req-late'), foldEvents(decider, history))).toEqual([
      `grant ${person.grantIdOf('req-late')}: beneficiary dev-ada has left (offboarded): nothing is provisioned`,
    ]);
  });

  it('still provisions for someone who has not left', () => {
    given([person.catalog(), person.identity(), new ProvisioningScenario({ beneficiaryId: 'someone-else' }).offboarded()])
      .when(person.approved('req-ok'))
      .thenAssert((events) => expect(types(events)).toContain(GrantCreated.type));
  });
});

describe('a machine identity whose owner left', () => {
  it('loses its grants at once when the case says revoke_now, the case being the cause', () => {
    const opened = caseOpened('revoke_now');
    given(nhiWithActiveGrant())
      .when(opened)
      .thenAssert((events) => {
        expect(types(events)).toEqual([GrantDeprovisioningRequested.type, ConnectorDeprovisionRequested.type]);
        expect(deprovisioningReason(events)).toBe('offboarding');
        expect(events[0]).toMatchObject({ causationid: opened.id, data: { triggeredBy: opened.id } });
      });
  });

  it('keeps its grants until the deadline when the case says keep_until_deadline', () => {
    given(nhiWithActiveGrant()).when(caseOpened('keep_until_deadline')).thenNothing();
  });

  it('loses its grants when the deadline fires with the case still open, the timer being the cause', () => {
    const due = transferDue();
    given([...nhiWithActiveGrant(), caseOpened('keep_until_deadline')])
      .when(due)
      .thenAssert((events) => {
        expect(deprovisioningReason(events)).toBe('offboarding');
        expect(events[0]).toMatchObject({ causationid: due.id });
      });
  });

  it('keeps its grants when the deadline fires after someone accepted ownership', () => {
    given([...nhiWithActiveGrant(), caseOpened('keep_until_deadline'), ownerChanged()])
      .when(transferDue())
      .thenNothing();
  });

  it('is not provisioned anything while frozen, and is again once someone accepted ownership', () => {
    const frozen = [nhi.catalog(), nhi.identity(), caseOpened('keep_until_deadline')];
    given(frozen).when(nhi.approved('req-frozen')).thenNothing();
    given([...frozen, ownerChanged()])
      .when(nhi.approved('req-thawed'))
      .thenAssert((events) => expect(types(events)).toContain(GrantCreated.type));
  });
});
