import { ACCESS_DENIED_EVENTS, ApprovalAccessDenied, RequestAccessDenied } from '@grantline/contracts';
import { projectInMemory } from '../testing/in-memory-projection';
import { accessDenied, identityUpserted, human } from '../testing/identity-events.fixture';
import { lifecycleEvents } from '../testing/lifecycle-events.fixture';
import { accessDenialsProjection } from './access-denials.projection';
import { ACCESS_DENIED_EVENT_TYPES, AUDIT_EVENT_TYPES } from './projection';

describe('access denials projection (refused API calls of every service)', () => {
  it("Given every writer's refusal event type, Then the audit reads each of them", () => {
    expect([...ACCESS_DENIED_EVENT_TYPES].sort()).toEqual(ACCESS_DENIED_EVENTS.map((def) => def.type).sort());
    expect(AUDIT_EVENT_TYPES).toEqual(expect.arrayContaining([...ACCESS_DENIED_EVENT_TYPES]));
  });

  it('Given a refusal recorded by the intake, When projected, Then it is one document with who, what, which object, the answer and why', () => {
    const refused = accessDenied(
      {
        principalId: 'mallory',
        roles: ['member'],
        service: 'intake',
        operation: 'POST /v1/identities/:id/offboard',
        objectRef: 'identity:alice',
        status: 403,
        reason: 'requires one of the roles identity-source, admin',
        at: '2025-03-01T10:00:00.000+01:00',
        suppressedSincePrevious: 2,
      },
      'denied-1',
      RequestAccessDenied,
    );

    expect(projectInMemory(accessDenialsProjection, [refused]).get('denied-1')).toEqual({
      _id: 'denied-1',
      eventId: 'denied-1',
      principalId: 'mallory',
      principalKind: 'person',
      roles: ['member'],
      service: 'intake',
      operation: 'POST /v1/identities/:id/offboard',
      objectRef: 'identity:alice',
      status: 403,
      reason: 'requires one of the roles identity-source, admin',
      at: '2025-03-01T09:00:00.000Z',
      suppressedSincePrevious: 2,
      appliedEventIds: ['denied-1'],
    });
  });

  it('Given refusals of several services, When projected in either order, Then the documents are the same', () => {
    const events = [
      accessDenied({ principalId: 'mallory', at: '2025-03-01T09:00:00.000Z' }, 'denied-audit'),
      accessDenied(
        {
          principalId: 'mallory',
          service: 'approval',
          operation: 'GET /v1/approvals/tasks',
          status: 403,
          reason: 'not the caller',
          at: '2025-03-01T09:01:00.000Z',
        },
        'denied-approval',
        ApprovalAccessDenied,
      ),
    ];

    expect(projectInMemory(accessDenialsProjection, [...events].reverse())).toEqual(projectInMemory(accessDenialsProjection, events));
  });

  it('Given a projected refusal, When the same event is delivered again, Then the document is the same object', () => {
    const refused = accessDenied({ principalId: 'mallory', at: '2025-03-01T09:00:00.000Z' }, 'denied-1');
    const before = projectInMemory(accessDenialsProjection, [refused]).get('denied-1');

    const after = accessDenialsProjection.apply(before, refused, 'denied-1');

    expect(after).toBe(before);
  });

  it('Given lifecycle and identity events, When asked which refusals they touch, Then none', () => {
    const others = [
      ...lifecycleEvents({ requestId: 'req-1' }).map((placed) => placed.event),
      identityUpserted(human('carol'), { eventId: 'id-1', time: '2025-03-01T09:00:00.000Z' }),
    ];

    expect(others.flatMap((event) => accessDenialsProjection.documentIdsOf(event))).toEqual([]);
  });
});
