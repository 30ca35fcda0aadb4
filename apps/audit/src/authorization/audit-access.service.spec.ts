import { AccessDenied, toProblem } from '@grantline/http-edge';
import type { GrantlineRole, Principal } from '@grantline/http-edge';
import type { AuditEvent } from '../projections/projection';
import { AuditQueryService } from '../query/audit-query.service';
import { storeOver } from '../testing/in-memory-store';
import { human, identityUpserted, offboarded, ownerChanged, serviceAccount } from '../testing/identity-events.fixture';
import { grantIdOfLifecycle, lifecycleEvents } from '../testing/lifecycle-events.fixture';
import { AuditAccess } from './audit-access.service';

const person = (subject: string, ...roles: GrantlineRole[]): Principal => ({
  subject,
  kind: 'person',
  roles: new Set<GrantlineRole>(['member', ...roles]),
  claims: { sub: subject },
});
const workload = (subject: string, ...roles: GrantlineRole[]): Principal => ({
  subject,
  kind: 'workload',
  roles: new Set<GrantlineRole>(roles),
  claims: { sub: subject },
});
const at = (minute: number): string => new Date(Date.parse('2025-03-01T08:00:00.000Z') + minute * 60_000).toISOString();

// carol (a person managed by maria) asked for herself via alice; svc-n (owned by dave) was asked for by alice too.
const lifecycle: AuditEvent[] = [
  ...lifecycleEvents({ requestId: 'req-h', subjectId: 'carol', subjectKind: 'human' }),
  ...lifecycleEvents({ requestId: 'req-n', subjectId: 'svc-n' }),
].map((placed) => placed.event);
const directory: AuditEvent[] = [
  identityUpserted(human('carol', 'maria'), { eventId: 'id-carol', time: at(0) }),
  identityUpserted(human('maria'), { eventId: 'id-maria', time: at(0) }),
  identityUpserted(serviceAccount('svc-n', 'dave'), { eventId: 'id-svc-n', time: at(0) }),
];
const personGrant = grantIdOfLifecycle({ requestId: 'req-h' });
const machineGrant = grantIdOfLifecycle({ requestId: 'req-n' });

function accessOver(events: readonly AuditEvent[]): { access: AuditAccess; queries: AuditQueryService } {
  const queries = new AuditQueryService(storeOver(events));
  return { access: new AuditAccess(queries), queries };
}

async function refusal(attempt: Promise<unknown>): Promise<AccessDenied> {
  const error = await attempt.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  if (!(error instanceof AccessDenied)) throw new Error(`expected AccessDenied, got ${String(error)}`);
  return error;
}

describe('AuditAccess (who may read which audit record)', () => {
  const { access, queries } = accessOver([...lifecycle, ...directory]);
  const timelineAs = async (principal: Principal, requestId: string) => access.assertTimelineVisible(principal, requestId, await queries.timeline(requestId));
  const explainAs = async (principal: Principal, grantId: string) => access.assertExplanationVisible(principal, grantId, await queries.explain(grantId));

  it('Given an auditor or a security engineer, When reading any timeline or explanation, Then it is shown', async () => {
    for (const reader of [person('audrey', 'auditor'), person('sam', 'security'), workload('siem', 'auditor')]) {
      await expect(timelineAs(reader, 'req-h')).resolves.toMatchObject({ requestId: 'req-h' });
      await expect(explainAs(reader, machineGrant)).resolves.toMatchObject({ grantId: machineGrant });
    }
  });

  it("Given the requester, the beneficiary and the beneficiary's manager, When reading the request's timeline and the grant's explanation, Then both are shown", async () => {
    for (const subject of ['alice', 'carol', 'maria']) {
      await expect(timelineAs(person(subject), 'req-h')).resolves.toMatchObject({ requestId: 'req-h' });
      await expect(explainAs(person(subject), personGrant)).resolves.toMatchObject({ grantId: personGrant });
    }
  });

  it('Given the owner of record of the NHI beneficiary, When reading its records, Then they are shown', async () => {
    await expect(timelineAs(person('dave'), 'req-n')).resolves.toMatchObject({ requestId: 'req-n' });
    await expect(explainAs(person('dave'), machineGrant)).resolves.toMatchObject({ grantId: machineGrant });
  });

  it('Given an unrelated member, When reading a timeline or an explanation, Then the refusal reads exactly like an unknown object and says why only in the record', async () => {
    const unrelated = await refusal(timelineAs(person('mallory'), 'req-h'));
    const unknown = await refusal(timelineAs(person('mallory'), 'req-nope'));

    expect(toProblem(unrelated)).toEqual({ ...toProblem(unknown), detail: 'Unknown request req-h' });
    expect(toProblem(unknown).detail).toBe('Unknown request req-nope');
    expect(unrelated.attempt).toMatchObject({ status: 404, objectRef: 'request:req-h', reason: expect.stringContaining('not the requester') });
    const grant = await refusal(explainAs(person('mallory'), personGrant));
    expect(grant.attempt).toMatchObject({ status: 404, objectRef: `grant:${personGrant}` });
    expect(toProblem(grant)).toMatchObject({ status: 404, title: 'Not found', detail: `Unknown grant ${personGrant}` });
  });

  it("Given an approver who is none of those (bob approved req-n), When reading its timeline, Then it is concealed: approvers read the approval service's view, not the audit", async () => {
    expect((await refusal(timelineAs(person('bob'), 'req-n'))).attempt.status).toBe(404);
  });

  it('Given a workload named like the beneficiary but holding no read role, When reading, Then it is concealed: only a person holds relations', async () => {
    expect((await refusal(timelineAs(workload('svc-n'), 'req-n'))).attempt.status).toBe(404);
  });

  it('Given the NHI transferred to erin, When dave and erin read its explanation, Then only erin may', async () => {
    const { access: after, queries: read } = accessOver([
      ...lifecycle,
      ...directory,
      ownerChanged({ identityId: 'svc-n', previousOwnerId: 'dave', newOwnerId: 'erin' }, 'own-1', at(5)),
    ]);

    await expect(after.assertExplanationVisible(person('erin'), machineGrant, await read.explain(machineGrant))).resolves.toBeDefined();
    expect((await refusal(after.assertExplanationVisible(person('dave'), machineGrant, await read.explain(machineGrant)))).attempt.status).toBe(404);
  });

  it("Given maria offboarded, When she reads her former report's records, Then she no longer may", async () => {
    const { access: after, queries: read } = accessOver([...lifecycle, ...directory, offboarded({ identityId: 'maria' }, 'off-maria', at(5))]);

    expect((await refusal(after.assertTimelineVisible(person('maria'), 'req-h', await read.timeline('req-h')))).attempt.status).toBe(404);
    await expect(after.assertMayListGrants(person('maria'), { subjectId: 'carol' })).rejects.toBeInstanceOf(AccessDenied);
  });

  describe('who has access (grants)', () => {
    it('Given a member, When listing her own grants, those of a person she manages or of an NHI she owns, Then she may', async () => {
      await expect(access.assertMayListGrants(person('carol'), { subjectId: 'carol', includeEnded: 'true' })).resolves.toBeUndefined();
      await expect(access.assertMayListGrants(person('maria'), { subjectId: 'carol' })).resolves.toBeUndefined();
      await expect(access.assertMayListGrants(person('dave'), { subjectId: 'svc-n' })).resolves.toBeUndefined();
    });

    it("Given a member, When listing someone else's grants (even a request's requester), Then 403 naming the identity", async () => {
      for (const [caller, subjectId] of [
        ['mallory', 'carol'],
        ['alice', 'carol'],
        ['carol', 'maria'],
      ] as const) {
        const refused = await refusal(access.assertMayListGrants(person(caller), { subjectId }));
        expect(refused.attempt).toMatchObject({ status: 403, objectRef: `identity:${subjectId}` });
      }
    });

    it('Given a member, When listing by entitlement or with no filter at all, Then 403 before the query is validated', async () => {
      expect((await refusal(access.assertMayListGrants(person('carol'), { entitlementId: 'ent-pg-orders-read' }))).attempt).toMatchObject({
        status: 403,
        objectRef: 'entitlement:ent-pg-orders-read',
      });
      expect((await refusal(access.assertMayListGrants(person('carol'), {}))).attempt.status).toBe(403);
      expect((await refusal(access.assertMayListGrants(person('carol'), { subjectId: ['carol', 'maria'] }))).attempt.status).toBe(403);
    });

    it('Given an auditor or security, When listing anything, Then the query goes on to validation', async () => {
      await expect(access.assertMayListGrants(person('audrey', 'auditor'), { entitlementId: 'ent-pg-orders-read' })).resolves.toBeUndefined();
      await expect(access.assertMayListGrants(person('sam', 'security'), {})).resolves.toBeUndefined();
    });

    it('Given a workload without a read role, When listing its own grants, Then 403: relations are for people', async () => {
      expect((await refusal(access.assertMayListGrants(workload('svc-n', 'identity-source'), { subjectId: 'svc-n' }))).attempt.status).toBe(403);
    });
  });
});
