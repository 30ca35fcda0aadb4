import { IdentityOwnerChanged, IdentityOwnershipTransferOpened, registry } from '@grantline/contracts';
import type { Envelope, TimerFiredData } from '@grantline/contracts';
import { foldEvents } from '@grantline/decider';
import { deciderSpec } from '@grantline/testing';
import { specEventId } from '../testing/event-id';
import { makeSchedulerDecider } from './scheduler.decider';
import type { Tick } from './scheduler.decider';

// The deadline of an NHI ownership transfer case: armed from the case, disarmed when someone takes ownership.

const decider = makeSchedulerDecider({ eventId: specEventId });
const given = deciderSpec(decider);
const tick = (at: string): Tick => ({ now: new Date(at) });
const DUE = '2026-03-16T09:00:00.000Z';
const meta = (id: string, time = '2026-03-02T09:00:00.000Z') => ({
  id,
  source: 'grantline/spec',
  time,
  subject: 'ci-deploy',
  correlationid: 'ci-deploy',
  actor: { kind: 'service' as const, id: 'intake' },
});
const opened = (transferId = 'otr-1', dueAt = DUE): Envelope =>
  registry.encode(
    IdentityOwnershipTransferOpened,
    {
      transferId,
      identityId: 'ci-deploy',
      previousOwnerId: 'alice',
      assigneeIds: ['maria'],
      dueAt,
      openedAt: '2026-03-02T09:00:00.000Z',
      reason: 'owner_offboarded',
      grantsDisposition: 'keep_until_deadline',
    },
    meta(`opened-${transferId}`),
  );
const ownerChanged = (): Envelope =>
  registry.encode(
    IdentityOwnerChanged,
    { identityId: 'ci-deploy', previousOwnerId: 'alice', newOwnerId: 'maria', reason: 'owner_offboarded', changedBy: 'maria' },
    meta('owner-changed', '2026-03-05T09:00:00.000Z'),
  );

describe('scheduler decider: ownership transfer deadline', () => {
  it('fires ownership_transfer_due at the case deadline, not before, targeting the case and the NHI, caused by the case', () => {
    given([opened()]).when(tick('2026-03-16T08:59:59.999Z')).thenNothing();
    given([opened()])
      .when(tick(DUE))
      .thenMatches([
        {
          subject: 'ci-deploy',
          causationid: 'opened-otr-1',
          data: {
            timerId: 'ownership_transfer_due:otr-1',
            kind: 'ownership_transfer_due',
            dueAt: DUE,
            target: { transferId: 'otr-1', identityId: 'ci-deploy' },
          } satisfies Partial<TimerFiredData>,
        },
      ]);
  });

  it('disarms the deadline when someone takes ownership of the NHI', () => {
    given([opened(), ownerChanged()]).when(tick('2026-04-01T00:00:00.000Z')).thenNothing();
  });

  it('fires the deadline once: its firing, folded back, disarms it', () => {
    const firing = decider.decide(tick(DUE), foldEvents(decider, [opened()]));
    given([opened(), ...firing])
      .when(tick('2026-04-01T00:00:00.000Z'))
      .thenNothing();
  });

  it('an owner change of an NHI with no open case changes nothing', () => {
    given([ownerChanged(), opened('otr-2')])
      .when(tick(DUE))
      .thenAssert((events) => expect(events.map((event) => (event.data as TimerFiredData).timerId)).toEqual(['ownership_transfer_due:otr-2']));
  });
});
