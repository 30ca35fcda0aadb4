import { AccessDenied, DeniedAttempts, concealed, forbidden, requireAnyRole } from './authorization';
import type { DeniedAttemptRecord } from './authorization';
import type { Principal } from './jwt-verifier';

const person = (subject: string, ...roles: Principal['roles'] extends ReadonlySet<infer R> ? R[] : never): Principal => ({
  subject,
  kind: 'person',
  roles: new Set(['member', ...roles]),
  claims: { sub: subject },
});

describe('authorization helpers', () => {
  it('requireAnyRole passes a holder and refuses anyone else with a 403 naming the roles', () => {
    expect(() => requireAnyRole(person('sam', 'security'), ['security', 'auditor'])).not.toThrow();
    const refusal = (() => {
      try {
        requireAnyRole(person('mallory'), ['identity-source', 'admin'], 'identity:alice');
      } catch (error) {
        return error;
      }
      return undefined;
    })();
    expect(refusal).toBeInstanceOf(AccessDenied);
    expect((refusal as AccessDenied).problem).toMatchObject({ status: 403, detail: 'requires one of the roles identity-source, admin' });
    expect((refusal as AccessDenied).attempt).toMatchObject({ status: 403, objectRef: 'identity:alice' });
  });

  it('concealed answers exactly as an unknown object would, and keeps the real reason for the record', () => {
    const refusal = concealed(person('mallory'), 'request:req-1', 'No request req-1', 'not the requester, beneficiary or an approver');
    expect(refusal.problem).toMatchObject({ status: 404, title: 'Not found', detail: 'No request req-1' });
    expect(refusal.attempt.reason).toBe('not the requester, beneficiary or an approver');
    expect(forbidden(person('x'), 'why').problem.status).toBe(403);
  });
});

describe('DeniedAttempts', () => {
  const attempt = (subject: string) => ({ principal: person(subject), status: 403 as const, reason: 'r', operation: 'POST /x' });

  it('records up to the limit per principal and window, then counts, and reports the count with the next record', async () => {
    let now = new Date('2026-01-01T00:00:00Z');
    const records: DeniedAttemptRecord[] = [];
    const attempts = new DeniedAttempts({ record: async (r) => void records.push(r) }, { perWindow: 2, windowMs: 60_000, now: () => now });
    for (let i = 0; i < 5; i += 1) await attempts.note(attempt('mallory'));
    await attempts.note(attempt('eve'));
    expect(records.map((r) => [r.principalId, r.suppressedSincePrevious])).toEqual([
      ['mallory', 0],
      ['mallory', 0],
      ['eve', 0],
    ]);
    now = new Date('2026-01-01T00:01:00Z');
    await attempts.note(attempt('mallory'));
    expect(records.at(-1)).toMatchObject({ principalId: 'mallory', suppressedSincePrevious: 3, roles: ['member'], operation: 'POST /x' });
  });

  it('never rejects: a sink failure is reported and the attempt counted for the next record', async () => {
    const errors: unknown[] = [];
    let fail = true;
    const records: DeniedAttemptRecord[] = [];
    const attempts = new DeniedAttempts(
      {
        record: async (r) => {
          if (fail) throw new Error('log down');
          records.push(r);
        },
      },
      { onError: (e) => errors.push(e) },
    );
    await expect(attempts.note(attempt('mallory'))).resolves.toBeUndefined();
    fail = false;
    await attempts.note(attempt('mallory'));
    expect(errors).toHaveLength(1);
    expect(records).toEqual([expect.objectContaining({ suppressedSincePrevious: 1 })]);
  });
});
