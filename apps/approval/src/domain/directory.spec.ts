import { IdentityOffboarded, IdentityOwnerChanged, IdentityUpserted, registry } from '@grantline/contracts';
import type { Envelope, Identity } from '@grantline/contracts';
import { decideAndEvolve, foldEvents } from '@grantline/decider';
import { deciderSpec } from '@grantline/testing';
import { ApprovalRefused, refusalIn } from './approval.commands';
import { emptyDirectory, evolveDirectory, groupMembers } from './directory';
import { catalogEvent, decided, organisation, specDecider, stage, submitted } from '../testing/approval-scenario';

const meta = (id: string) => ({
  id,
  source: 'spec',
  time: '2026-01-05T09:00:00.000Z',
  subject: 'x',
  correlationid: 'x',
  actor: { kind: 'system' as const, id: 'hr' },
});
const human = (identityId: string, groups: string, sourceVersion?: number): Envelope => {
  const identity: Identity = { identityId, kind: 'human', displayName: identityId, status: 'active', attributes: { groups } };
  return registry.encode(
    IdentityUpserted,
    { identity, ...(sourceVersion !== undefined ? { sourceVersion } : {}) },
    meta(`${identityId}-${sourceVersion ?? 0}`),
  );
};

describe('directory', () => {
  it('keeps the newest identity record when an older source version arrives late', () => {
    const directory = [human('zoe', 'security', 2), human('zoe', 'sre', 1)].reduce(evolveDirectory, emptyDirectory());
    expect(directory.identities.get('zoe')?.groups).toEqual(['security']);
  });

  it('keeps the newest catalogue when an older version arrives late', () => {
    const directory = [catalogEvent(registry, 'new-', 5), catalogEvent(registry, 'old-', 4)].reduce(evolveDirectory, emptyDirectory());
    expect(directory.catalogVersion).toBe(5);
    expect(directory.entitlements.get('orders-read')?.ownerId).toBe('new-dave');
  });

  it('group members: the groups attribute plus configured members, active only', () => {
    const offboarded = registry.encode(
      IdentityOffboarded,
      { identityId: 'sec-2', kind: 'human', effectiveAt: '2026-01-05T09:00:00.000Z', reason: 'leaver', ownedIdentityIds: [] },
      meta('off'),
    );
    const directory = [...organisation(), offboarded].reduce(evolveDirectory, emptyDirectory());
    expect(groupMembers(directory, 'security', new Map([['security', ['ops-lead']]]))).toEqual(['ops-lead', 'sec-1']);
  });

  it('a team counts as a group', () => {
    const identity: Identity = { identityId: 'tess', kind: 'human', displayName: 'Tess', team: 'security', status: 'active', attributes: {} };
    const directory = evolveDirectory(emptyDirectory(), registry.encode(IdentityUpserted, { identity }, meta('tess')));
    expect(groupMembers(directory, 'security', new Map())).toEqual(['tess']);
  });

  it('follows NHI owner changes', () => {
    const changed = registry.encode(
      IdentityOwnerChanged,
      { identityId: 'svc-orders', previousOwnerId: 'carol', newOwnerId: 'erin', reason: 'transfer', changedBy: 'hr' },
      meta('own'),
    );
    const directory = [...organisation(), changed].reduce(evolveDirectory, emptyDirectory());
    expect(directory.identities.get('svc-orders')?.ownerId).toBe('erin');
  });

  it('an approver offboarded after the task opened can no longer decide it', () => {
    const before = [...organisation(), catalogEvent()].reduce(evolveDirectory, emptyDirectory());
    const routing = specDecider(before);
    const facts = [submitted('req-1'), decided('req-1', { route: { stages: [stage('security', [{ resolver: 'security' }])] } })];
    const opened = decideAndEvolve(routing, { kind: 'route', requestId: 'req-1' }, foldEvents(routing, facts)).state;
    const after = evolveDirectory(
      before,
      registry.encode(
        IdentityOffboarded,
        { identityId: 'sec-1', kind: 'human', effectiveAt: '2026-01-05T10:00:00.000Z', reason: 'leaver', ownedIdentityIds: [] },
        meta('off-1'),
      ),
    );
    const command = {
      kind: 'decide_task' as const,
      requestId: 'req-1',
      taskId: 'req-1:security',
      approverId: 'sec-1',
      decision: 'approve' as const,
      at: '2026-01-05T11:00:00.000Z',
    };
    deciderSpec(specDecider(after))
      .state(opened)
      .when(command)
      .thenThrows((error) => error instanceof ApprovalRefused && error.rejection === 'not_eligible');
    deciderSpec(specDecider(before))
      .state(opened)
      .when(command)
      .thenAssert((events) => expect(refusalIn(events)).toBeUndefined());
  });
});
