import {
  ApprovalRequestApproved,
  GrantActivated,
  GrantCreated,
  GrantRevoked,
  IdentityOffboarded,
  IdentityUpserted,
  PolicyDecisionRecorded,
  RequestSubmitted,
  registry,
} from '@grantline/contracts';
import type { Envelope, EventDefinition } from '@grantline/contracts';
import { fixedClock } from '@grantline/decider';
import { ProblemException } from '@grantline/http-edge';
import { InMemoryMessageBus, silentLogger } from '@grantline/messaging';
import { EvidenceController } from './evidence.controller';
import { EvidenceService } from './evidence.service';

const DIGEST = 'c4f1c2d4e5b60718293a4b5c6d7e8f90112233445566778899aabbccddeeff00';
let sequence = 0;
function encode<TData>(def: EventDefinition<string, TData>, data: TData, time: string): Envelope {
  sequence += 1;
  return registry.encode(def, data, {
    id: `spec-${sequence}`,
    source: 'spec',
    time,
    subject: 'req-e',
    correlationid: 'req-e',
    actor: { kind: 'service', id: 'spec' },
  });
}

/** bob's auto-approved grant, then bob leaves and the grant is removed a second later. */
function lifecycle(): Envelope[] {
  const grantId = 'req-e:orders-staging-read';
  return [
    encode(IdentityUpserted, { identity: { kind: 'human', identityId: 'bob', displayName: 'Bob', status: 'active', attributes: {} } }, '2026-03-01T08:00:00Z'),
    encode(
      RequestSubmitted,
      {
        requestId: 'req-e',
        requesterId: 'bob',
        subject: { id: 'bob', kind: 'human' },
        items: { entitlementIds: ['orders-staging-read'] },
        justification: 'debugging',
        duration: 'PT8H',
        channel: 'api',
      },
      '2026-03-01T09:00:00Z',
    ),
    encode(
      PolicyDecisionRecorded,
      {
        decisionId: 'dec-e',
        requestId: 'req-e',
        effect: 'auto_approve',
        constraints: { maxDuration: 'PT8H', breakGlassAllowed: false },
        risk: { score: 0, factors: [] },
        sodConflicts: [],
        reasons: ['low risk'],
        matchedRules: ['human-low-nonprod-read'],
        recordOnly: [],
        bundleDigest: DIGEST,
        inputSnapshot: {},
        evaluation: { outcome: 'recorded_before_v2' },
      },
      '2026-03-01T09:00:01Z',
    ),
    encode(
      ApprovalRequestApproved,
      {
        requestId: 'req-e',
        beneficiaryId: 'bob',
        grants: [{ grantId, entitlementId: 'orders-staging-read', expiresAt: '2026-03-01T17:00:00Z' }],
        basis: { kind: 'auto_approved', decisionId: 'dec-e', approvals: [] },
      },
      '2026-03-01T09:00:02Z',
    ),
    encode(
      GrantCreated,
      {
        grantId,
        requestId: 'req-e',
        beneficiaryId: 'bob',
        entitlementId: 'orders-staging-read',
        systemId: 'orders-db-staging',
        connectorId: 'postgres',
        targetAccount: 'bob',
        expiresAt: '2026-03-01T17:00:00Z',
        breakGlass: false,
        decisionId: 'dec-e',
      },
      '2026-03-01T09:00:03Z',
    ),
    encode(GrantActivated, { grantId, activatedAt: '2026-03-01T09:00:04Z', expiresAt: '2026-03-01T17:00:00Z' }, '2026-03-01T09:00:04Z'),
    encode(
      IdentityOffboarded,
      { identityId: 'bob', kind: 'human', effectiveAt: '2026-03-01T10:00:00Z', reason: 'leaver', ownedIdentityIds: [] },
      '2026-03-01T10:00:00Z',
    ),
    encode(GrantRevoked, { grantId, reason: 'offboarding', revokedAt: '2026-03-01T10:00:01Z' }, '2026-03-01T10:00:01Z'),
  ];
}

describe('GET /v1/audit/evidence', () => {
  const setup = (): { bus: InMemoryMessageBus; controller: EvidenceController } => {
    const bus = new InMemoryMessageBus({ registry, logger: silentLogger });
    bus.append(...lifecycle());
    const controller = new EvidenceController(new EvidenceService(bus, fixedClock(new Date('2026-03-01T12:00:00Z'))));
    return { bus, controller };
  };
  const response = (): { headers: Record<string, string>; setHeader(name: string, value: string): void } => {
    const headers: Record<string, string> = {};
    return { headers, setHeader: (name, value) => void (headers[name] = value) };
  };

  it('Given a lifecycle on the log, When an auditor asks for its period, Then every line links to a record of the log at its position', async () => {
    const { bus, controller } = setup();

    const pack = await controller.pack({ from: '2026-03-01T00:00:00Z', to: '2026-03-01T12:00:00Z' }, response());

    if (typeof pack === 'string') throw new Error('expected JSON');
    expect(pack.evaluatedAt).toBe('2026-03-01T12:00:00.000Z');
    expect(pack.log.events).toBe(8);
    expect(pack.controls.find((control) => control.id === 'AC-2(3)')).toMatchObject({ status: 'satisfied', count: 1 });
    const links = pack.controls.flatMap((control) => control.lines.flatMap((line) => line.links));
    expect(links.length).toBeGreaterThan(5);
    const records = await bus.readRecords(links);
    records.forEach((record, index) => {
      expect(record).toBeDefined();
      const onLog = JSON.parse(record!.value!.toString('utf8')) as { id: string; type: string };
      expect({ id: onLog.id, type: onLog.type }).toEqual({ id: links[index]!.id, type: links[index]!.type });
    });
  });

  it('Given format md, Then the pack is Markdown with its content type', async () => {
    const { controller } = setup();
    const answer = response();

    const markdown = await controller.pack({ from: '2026-03-01T00:00:00Z', to: '2026-03-01T12:00:00Z', format: 'md' }, answer);

    expect(answer.headers['Content-Type']).toBe('text/markdown; charset=utf-8');
    expect(markdown).toContain('# Access control evidence: 2026-03-01T00:00:00Z – 2026-03-01T12:00:00Z');
    expect(markdown).toContain('## AC-2(3) Disable Accounts');
  });

  it.each([
    [{ to: '2026-03-01T12:00:00Z' }, 'from'],
    [{ from: '2026-03-01T12:00:00Z', to: '2026-03-01T00:00:00Z' }, 'to'],
    [{ from: '2026-03-01T00:00:00Z', to: '2026-03-01T12:00:00Z', format: 'pdf' }, 'format'],
  ])('Given the query %j, Then the answer is 400 naming %s', async (query, field) => {
    const { controller } = setup();

    const refused = await controller.pack(query, response()).then(
      () => undefined,
      (error: unknown) => error,
    );

    expect(refused).toBeInstanceOf(ProblemException);
    const problem = (refused as ProblemException).getResponse() as { status: number; errors: { field: string }[] };
    expect(problem.status).toBe(400);
    expect(problem.errors.map((error) => error.field)).toEqual([field]);
  });
});
