// The hot path visits only the rules whose enumerated pre-filters fit each entitlement (an index built
// once per bundle); a trace walks every rule. Both must reach the same decision for any input.
import fc from 'fast-check';
import { loadBundleFromFiles } from './bundle-compiler';
import { readBundleDirectory } from './bundle-loader';
import { canonicalJson, evaluate, evaluateValidated, simulate } from './evaluate';
import { ENVIRONMENTS, PRIVILEGES, SENSITIVITIES, SUBJECT_KINDS, parsePolicyInput } from './input.schema';
import type { PolicyInputDraft } from './input.schema';

const shipped = loadBundleFromFiles(readBundleDirectory(`${__dirname}/../../../policies`));

const inputArb: fc.Arbitrary<PolicyInputDraft> = fc.record({
  request: fc.record({
    id: fc.constant('r'),
    duration: fc.constantFrom(null, 'PT1H', 'PT8H', 'P2D', 'P60D'),
    justification: fc.constantFrom('', 'a long enough justification'),
    ticket: fc.constantFrom(null, 'INC-1'),
    emergency: fc.boolean(),
  }),
  subject: fc.record({
    id: fc.constant('s'),
    kind: fc.constantFrom(...SUBJECT_KINDS),
    manager: fc.constantFrom(null, 'max'),
    ownerOfRecord: fc.constantFrom(null, 'alice'),
    attributes: fc.record({ onCall: fc.boolean(), scopes: fc.constantFrom(['payments'], ['db'], []) }),
  }),
  requester: fc.record({ id: fc.constant('alice') }),
  entitlements: fc.array(
    fc.record({
      id: fc.constantFrom('e1', 'e2', 'payments-approver', 'payments-write'),
      system: fc.constantFrom('payments', 'wiki', 'db', 'deploy', 'audit-log'),
      sensitivity: fc.constantFrom(...SENSITIVITIES),
      environment: fc.constantFrom(...ENVIRONMENTS),
      owner: fc.constantFrom('bob', null),
      privilege: fc.constantFrom(...PRIVILEGES),
      maxDuration: fc.constantFrom(null, 'PT4H', 'P7D'),
    }),
    { minLength: 1, maxLength: 3 },
  ),
  grants: fc.array(
    fc.record({
      entitlementId: fc.constantFrom('payments-write', 'payments-approver', 'x'),
      system: fc.constantFrom('payments', 'deploy', 'audit-log'),
      privilege: fc.constantFrom(...PRIVILEGES),
      environment: fc.constantFrom(...ENVIRONMENTS),
      status: fc.constantFrom('active' as const, 'pending' as const),
    }),
    { maxLength: 3 },
  ),
  now: fc.constantFrom('2025-06-02T03:00:00Z', '2025-06-02T12:00:00Z'),
});

describe('evaluation plan', () => {
  it('Given any input, When evaluated on the indexed hot path and with a full trace, Then the decisions are identical', () => {
    fc.assert(
      fc.property(inputArb, (input) => canonicalJson(evaluate(shipped, input)) === canonicalJson(simulate(shipped, input).decision)),
      { numRuns: 300 },
    );
  });

  it('Given decisions for different inputs in a row, When the first input is evaluated again, Then nothing carried over', () => {
    fc.assert(
      fc.property(inputArb, inputArb, (a, b) => {
        const first = canonicalJson(evaluate(shipped, a));
        evaluate(shipped, b);
        return canonicalJson(evaluate(shipped, a)) === first;
      }),
      { numRuns: 100 },
    );
  });

  it('Given an unvalidated input outside the enumerations, When evaluated directly, Then it is matched rule by rule like any other', () => {
    const valid = parsePolicyInput(fc.sample(inputArb, { numRuns: 1, seed: 1 })[0]);
    const odd = { ...valid, subject: { ...valid.subject, kind: 'robot' } } as unknown as typeof valid;
    const decision = evaluateValidated(shipped, odd);
    const kindFiltered = new Set(shipped.rules.filter((r) => r.match?.subjectKinds).map((r) => r.id));
    expect(decision.matchedRules.filter((id) => kindFiltered.has(id))).toEqual([]);
    expect(canonicalJson(decision)).toBe(canonicalJson(evaluateValidated(shipped, odd, [])));
  });
});
