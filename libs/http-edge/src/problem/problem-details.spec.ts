import { z } from 'zod';
import { PROBLEMS, ProblemException, fieldErrorsOf, invalidInput, problem } from './problem-details';

const Body = z.strictObject({
  subject: z.strictObject({ id: z.string().min(1), kind: z.enum(['human', 'service_account']) }),
  entitlementIds: z.array(z.string().min(1)).min(1),
  duration: z.union([z.string().regex(/^PT\d+H$/), z.number().int().positive()]),
});

const errorsOf = (input: unknown, options?: Parameters<typeof fieldErrorsOf>[1]) => {
  const parsed = Body.safeParse(input);
  if (parsed.success) throw new Error('expected the input to be refused');
  return fieldErrorsOf(parsed.error, options);
};

describe('problem details', () => {
  it('builds the RFC 9457 shape, with errors only when there are some', () => {
    expect(problem(PROBLEMS.notFound, 'No request r-1')).toEqual({
      type: 'https://grantline.dev/problems/not-found',
      title: 'Not found',
      status: 404,
      detail: 'No request r-1',
    });
    expect(problem({ slug: 'self_approval', title: 'Self-approval is not allowed', status: 403 }, 'no', [])).not.toHaveProperty('errors');
    const thrown = ProblemException.of(PROBLEMS.forbidden, 'no');
    expect(thrown.getStatus()).toBe(403);
    expect(thrown.problem.status).toBe(403);
  });

  it('names every bad field by its dotted path, an unknown field by its own name, the whole body as (body)', () => {
    expect(errorsOf({ subject: { id: '', kind: 'robot' }, entitlementIds: [''], duration: 'PT1H', requesterId: 'mallory' }).map((e) => e.field)).toEqual([
      'subject.id',
      'subject.kind',
      'entitlementIds.0',
      'requesterId',
    ]);
    expect(errorsOf('not an object')).toEqual([{ field: '(body)', message: expect.any(String) }]);
    expect(errorsOf('not an object', { root: '(query)' })[0]?.field).toBe('(query)');
  });

  it('reports a union once per field and message, and prefixes sub-document paths', () => {
    const fields = errorsOf({ subject: { id: 'a', kind: 'human' }, entitlementIds: ['x'], duration: -1 }, { prefix: ['items'] }).map((e) => e.field);
    expect(fields.every((field) => field === 'items.duration')).toBe(true);
    expect(new Set(fields).size).toBe(fields.length === 0 ? 0 : 1);
    expect(fields.length).toBeGreaterThan(0);
  });

  it('answers invalid input as 400 with the errors and a detail repeating them', () => {
    const thrown = invalidInput([{ field: 'decision', message: 'expected approve or deny' }], PROBLEMS.invalidBody);
    expect(thrown.problem).toEqual({
      type: 'https://grantline.dev/problems/invalid-body',
      title: 'Invalid request body',
      status: 400,
      detail: 'decision: expected approve or deny',
      errors: [{ field: 'decision', message: 'expected approve or deny' }],
    });
    expect(invalidInput([{ field: 'x', message: 'y' }]).problem.type).toBe('https://grantline.dev/problems/invalid-request');
  });
});
