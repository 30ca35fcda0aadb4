import { validateSubmission } from './request-body.schema';
import type { CatalogLookup } from './request-body.schema';

const catalog: CatalogLookup = {
  entitlement: (id) => (id === 'db-read' ? { requestable: true } : id === 'retired' ? { requestable: false } : undefined),
  accessPackage: (id) => (id === 'dev-pack' ? {} : undefined),
};
const NOW = new Date('2025-06-02T10:00:00Z');
const valid = { subject: { id: 'bob', kind: 'human' }, entitlementIds: ['db-read'], justification: 'debugging', duration: 'PT8H' };
const fieldsOf = (body: unknown): string[] => {
  const result = validateSubmission(body, catalog, NOW);
  return result.ok ? [] : result.errors.map((error) => error.field);
};

describe('validateSubmission', () => {
  it('accepts a valid submission and shapes the items', () => {
    const result = validateSubmission(valid, catalog, NOW);
    expect(result).toEqual({
      ok: true,
      value: { subject: valid.subject, items: { entitlementIds: ['db-read'] }, justification: 'debugging', duration: 'PT8H' },
    });
  });

  it('accepts an access package and an absolute end', () => {
    const { entitlementIds: _e, duration: _d, ...rest } = valid;
    const result = validateSubmission({ ...rest, accessPackageId: 'dev-pack', endsAt: '2025-06-03T10:00:00Z' }, catalog, NOW);
    expect(result).toMatchObject({ ok: true, value: { items: { accessPackageId: 'dev-pack' }, endsAt: '2025-06-03T10:00:00Z' } });
  });

  it.each([
    ['a missing subject', { ...valid, subject: undefined }, ['subject']],
    ['a subject without an id', { ...valid, subject: { kind: 'human' } }, ['subject.id']],
    ['an unknown entitlement', { ...valid, entitlementIds: ['db-read', 'no-such'] }, ['entitlementIds.1']],
    ['a non-requestable entitlement', { ...valid, entitlementIds: ['retired'] }, ['entitlementIds.0']],
    ['an unknown access package', { ...valid, entitlementIds: undefined, accessPackageId: 'nope' }, ['accessPackageId']],
    ['a negative duration', { ...valid, duration: '-PT1H' }, ['duration']],
    ['a zero duration', { ...valid, duration: 'PT0S' }, ['duration']],
    ['a calendar duration', { ...valid, duration: 'P1M' }, ['duration']],
    ['a 1 MB justification', { ...valid, justification: 'x'.repeat(1024 * 1024) }, ['justification']],
    ['a blank justification', { ...valid, justification: '   ' }, ['justification']],
    ['both a duration and an end', { ...valid, endsAt: '2025-06-03T10:00:00Z' }, ['duration']],
    ['neither a duration nor an end', { ...valid, duration: undefined }, ['duration']],
    ['an end in the past', { ...valid, duration: undefined, endsAt: '2025-06-01T10:00:00Z' }, ['endsAt']],
    ['both entitlements and a package', { ...valid, accessPackageId: 'dev-pack' }, ['entitlementIds']],
    ['a requester in the body', { ...valid, requesterId: 'mallory' }, ['requesterId']],
    ['break-glass without an incident', { ...valid, emergency: { breakGlass: true } }, ['emergency.incidentRef']],
  ])('rejects %s, naming the field', (_case, body, fields) => {
    expect(fieldsOf(body)).toEqual(fields);
  });

  it('reports every bad field at once', () => {
    expect(fieldsOf({ entitlementIds: ['nope'], justification: 'x'.repeat(5000), duration: '-PT1H' })).toEqual(
      expect.arrayContaining(['subject', 'justification', 'duration', 'entitlementIds.0']),
    );
  });

  it('rejects a body that is not an object', () => {
    expect(fieldsOf([valid])).toEqual(['(body)']);
    expect(fieldsOf(null)).toEqual(['(body)']);
  });
});
