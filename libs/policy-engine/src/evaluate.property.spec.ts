import fc from 'fast-check';
import { loadBundleFromFiles } from './bundle-compiler';
import { canonicalJson, evaluate } from './evaluate';
import { ENVIRONMENTS, PRIVILEGES, SENSITIVITIES, SUBJECT_KINDS } from './input.schema';
import type { PolicyInputDraft } from './input.schema';
import { readBundleDirectory } from './bundle-loader';

const shippedFiles = readBundleDirectory(`${__dirname}/../../../policies`);
const shipped = loadBundleFromFiles(shippedFiles);

const entitlementArb = fc.record({
  id: fc.constantFrom('e1', 'e2', 'payments-approver', 'payments-write'),
  system: fc.constantFrom('payments', 'wiki', 'db', 'deploy', 'audit-log'),
  sensitivity: fc.constantFrom(...SENSITIVITIES),
  environment: fc.constantFrom(...ENVIRONMENTS),
  owner: fc.constantFrom('bob', null),
  privilege: fc.constantFrom(...PRIVILEGES),
  maxDuration: fc.constantFrom(null, 'PT4H', 'P7D'),
});

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
  entitlements: fc.array(entitlementArb, { minLength: 1, maxLength: 3 }),
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

// A deny rule built from arbitrary selectors: whatever it matches, it may only make decisions stricter.
const denyRuleArb = fc
  .record({
    environments: fc.subarray([...ENVIRONMENTS], { minLength: 1 }),
    privileges: fc.subarray([...PRIVILEGES], { minLength: 1 }),
    sensitivities: fc.subarray([...SENSITIVITIES], { minLength: 1 }),
    mode: fc.constantFrom('enforce', 'record'),
  })
  .map(
    (r) =>
      `kind: RuleSet\nrules:\n  - id: extra-deny\n    mode: ${r.mode}\n    match: { environments: [${r.environments.join(', ')}], privileges: [${r.privileges.join(', ')}], sensitivities: [${r.sensitivities.join(', ')}] }\n    effect: deny\n    reason: extra\n`,
  );

describe('properties', () => {
  it('Given any input, When a deny rule is added to the bundle, Then a denied request is never approved and an approval can only become a deny', () => {
    fc.assert(
      fc.property(inputArb, denyRuleArb, (input, rule) => {
        const withDeny = loadBundleFromFiles([...shippedFiles, { path: 'zz-extra.yaml', content: rule }]);
        const before = evaluate(shipped, input).effect;
        const after = evaluate(withDeny, input).effect;
        if (before === 'deny') return after === 'deny';
        return after === before || after === 'deny';
      }),
      { numRuns: 300 },
    );
  });

  it('Given any input, When evaluated twice with the same bundle (also after a JSON round trip), Then the decisions are identical', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const a = canonicalJson(evaluate(shipped, input));
        const b = canonicalJson(evaluate(shipped, JSON.parse(JSON.stringify(input)) as unknown));
        return a === b;
      }),
      { numRuns: 300 },
    );
  });
});
