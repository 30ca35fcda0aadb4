import { loadBundleFromDirectory } from './bundle-loader';
import type { Decision } from './decision.types';
import { canonicalJson, evaluate, reproduce, simulate } from './evaluate';
import type { PolicyInputDraft } from './input.schema';
import { entitlement, grant, humanInput, inlineBundle, nhiInput } from './testing/policy-fixtures';

const shipped = loadBundleFromDirectory(`${__dirname}/../../../policies`);

// Every scenario below also goes through the reproduction test at the end.
const scenarios: Record<string, PolicyInputDraft> = {
  nhiWithoutOwner: nhiInput({
    subject: { id: 'svc-orphan', kind: 'service_account', ownerOfRecord: null, attributes: { scope: 'payments', scopes: ['payments'] } },
  }),
  nhiWithoutExpiry: nhiInput({ request: { id: 'r', duration: null } }),
  nhiPrivilegedProd: nhiInput(),
  nhiPrivilegedProdTooLong: nhiInput({ request: { id: 'r', duration: 'PT48H' } }),
  saOutsideScope: nhiInput({
    subject: { id: 'svc-reports', kind: 'service_account', ownerOfRecord: 'alice', attributes: { scope: 'reports', scopes: ['reports'] } },
  }),
  humanLowNonprodRead: humanInput(),
  humanMediumProd: humanInput({ entitlements: [entitlement({ id: 'crm-read', system: 'crm', sensitivity: 'medium', environment: 'prod' })] }),
  humanHighProd: humanInput({
    entitlements: [entitlement({ id: 'ledger-write', system: 'ledger', sensitivity: 'high', environment: 'prod', privilege: 'write', owner: 'lena' })],
  }),
  breakGlassOnCall: humanInput({
    request: { id: 'r', duration: 'PT2H', emergency: true, ticket: 'INC-42', justification: 'database down' },
    subject: { id: 'hanna', kind: 'human', manager: 'max', attributes: { onCall: true } },
    entitlements: [entitlement({ id: 'db-admin', system: 'db', sensitivity: 'critical', environment: 'prod', privilege: 'admin' })],
  }),
  breakGlassTooLong: humanInput({
    request: { id: 'r', duration: 'PT8H', emergency: true, ticket: 'INC-42', justification: 'database down' },
    subject: { id: 'hanna', kind: 'human', manager: 'max', attributes: { onCall: true } },
    entitlements: [entitlement({ id: 'db-admin', system: 'db', sensitivity: 'critical', environment: 'prod', privilege: 'admin' })],
  }),
  breakGlassNotOnCall: humanInput({
    request: { id: 'r', duration: 'PT2H', emergency: true, ticket: 'INC-42' },
    entitlements: [entitlement({ id: 'db-admin', system: 'db', sensitivity: 'critical', environment: 'prod', privilege: 'admin' })],
  }),
  sodWithCurrentGrant: humanInput({
    entitlements: [entitlement({ id: 'payments-approver', system: 'payments-approvals', sensitivity: 'medium', environment: 'prod' })],
    grants: [grant({ entitlementId: 'payments-write', system: 'payments', privilege: 'write', environment: 'prod' })],
  }),
  sodWithPendingGrant: humanInput({
    entitlements: [entitlement({ id: 'payments-approver', system: 'payments-approvals', sensitivity: 'medium', environment: 'prod' })],
    grants: [grant({ entitlementId: 'payments-write', system: 'payments', privilege: 'write', environment: 'prod', status: 'pending' })],
  }),
  sodWithinRequest: humanInput({
    entitlements: [
      entitlement({ id: 'payments-approver', system: 'payments-approvals', sensitivity: 'medium', environment: 'prod' }),
      entitlement({ id: 'payments-write', system: 'payments', sensitivity: 'medium', environment: 'prod', privilege: 'write' }),
    ],
  }),
  sodRequireApproval: humanInput({
    entitlements: [entitlement({ id: 'audit-admin', system: 'audit-log', sensitivity: 'medium', environment: 'prod', privilege: 'admin' })],
    grants: [grant({ entitlementId: 'deploy-prod', system: 'deploy', privilege: 'write', environment: 'prod' })],
  }),
  aiAgentAdmin: nhiInput({
    subject: { id: 'agent-7', kind: 'ai_agent', ownerOfRecord: 'alice', attributes: {} },
    entitlements: [entitlement({ id: 'db-admin', system: 'db', sensitivity: 'critical', environment: 'prod', privilege: 'admin' })],
    now: '2025-06-02T23:30:00Z',
  }),
};

const run = (name: keyof typeof scenarios): Decision => evaluate(shipped, scenarios[name]);

describe('guardrails in the shipped bundle', () => {
  it('Given an NHI without an owner of record, When evaluated, Then it is denied with the owner reason', () => {
    const d = run('nhiWithoutOwner');
    expect(d.effect).toBe('deny');
    expect(d.matchedRules).toContain('nhi-requires-owner-of-record');
    expect(d.reasons[0]).toContain('has no owner of record');
  });

  it('Given an NHI asking for a grant without expiry, When evaluated, Then it is denied (no standing machine access)', () => {
    const d = run('nhiWithoutExpiry');
    expect(d.effect).toBe('deny');
    expect(d.matchedRules).toContain('nhi-no-standing-access');
  });

  it('Given an NHI asking for write in prod within its scope, When evaluated, Then it needs nhi_owner then security, at most 24h, ephemeral credentials', () => {
    const d = run('nhiPrivilegedProd');
    expect(d.effect).toBe('require_approval');
    expect(d.route.map((s) => s.name)).toEqual(['nhi_owner', 'security']);
    expect(d.route[0]!.approvers).toEqual([{ resolver: 'nhi_owner', ref: 'alice' }]);
    expect(d.constraints).toMatchObject({ maxDuration: 'P1D', credentialType: 'ephemeral' });
    expect(d.effectiveDuration).toBe('PT8H');
  });

  it('Given the same NHI asking for 48h, When evaluated, Then the duration above the 24h maximum is denied (bundle says deny)', () => {
    const d = run('nhiPrivilegedProdTooLong');
    expect(d.effect).toBe('deny');
    expect(d.reasons).toContain('requested duration PT48H exceeds the maximum P1D');
  });

  it('Given a service account asking for prod write outside its declared scope, When evaluated, Then it is denied with a least-privilege reason', () => {
    const d = run('saOutsideScope');
    expect(d.effect).toBe('deny');
    expect(d.reasons[0]).toMatch(/^least privilege: svc-reports declares no scope over payments/);
  });

  it('Given a human asking for low-sensitivity nonprod read, When evaluated, Then it is auto-approved with a maximum duration', () => {
    const d = run('humanLowNonprodRead');
    expect(d).toMatchObject({ effect: 'auto_approve', route: [], effectiveDuration: 'PT8H' });
    expect(d.constraints.maxDuration).toBe('P30D');
  });

  it('Given a human asking for medium-sensitivity access, When evaluated, Then the manager approves', () => {
    const d = run('humanMediumProd');
    expect(d.effect).toBe('require_approval');
    expect(d.route).toEqual([{ name: 'manager', approvers: [{ resolver: 'manager', ref: 'max' }], quorum: 1 }]);
  });

  it('Given a human asking for high-sensitivity access, When evaluated, Then manager and resource owner approve in order, with the strictest recertification', () => {
    const d = run('humanHighProd');
    expect(d.route.map((s) => s.name)).toEqual(['manager', 'resource_owner']);
    expect(d.route[1]!.approvers).toEqual([{ resolver: 'resource_owner', ref: 'lena' }]);
    expect(d.constraints.recertificationEvery).toBe('P30D'); // min(P90D, P30D)
  });

  it('Given an on-call human with a ticket in an emergency, When evaluated, Then break-glass is auto-approved for at most 4h with review', () => {
    const d = run('breakGlassOnCall');
    expect(d.effect).toBe('auto_approve');
    expect(d.constraints).toMatchObject({ maxDuration: 'PT4H', breakGlassAllowed: true, reviewRequired: true });
  });

  it('Given break-glass for longer than 4h, When evaluated, Then the hard maximum denies it', () => {
    expect(run('breakGlassTooLong').effect).toBe('deny');
  });

  it('Given an emergency request from someone not on call, When evaluated, Then it is denied', () => {
    const d = run('breakGlassNotOnCall');
    expect(d.effect).toBe('deny');
    expect(d.matchedRules).toContain('break-glass-not-on-call');
  });
});

describe('separation of duties, preventive', () => {
  it.each(['sodWithCurrentGrant', 'sodWithPendingGrant', 'sodWithinRequest'] as const)(
    'Given a request completing a toxic combination (%s), When evaluated, Then it is denied and the conflict listed',
    (name) => {
      const d = run(name);
      expect(d.effect).toBe('deny');
      expect(d.sodConflicts).toEqual([
        expect.objectContaining({ combinationId: 'payments-maker-checker', sides: [['payments-write'], ['payments-approver']] }),
      ]);
      expect(d.reasons[0]).toMatch(/^separation of duties: /);
    },
  );

  it('Given a combination declared require_approval, When completed by a request, Then security is added to the route', () => {
    const d = run('sodRequireApproval');
    expect(d.effect).toBe('require_approval');
    expect(d.route.map((s) => s.name)).toContain('security');
  });

  it('Given the toxic combination is already held but the request touches neither side, When evaluated, Then no preventive conflict is raised', () => {
    const d = evaluate(
      shipped,
      humanInput({
        grants: [
          grant({ entitlementId: 'payments-write', system: 'payments', privilege: 'write', environment: 'prod' }),
          grant({ entitlementId: 'payments-approver', system: 'x' }),
        ],
      }),
    );
    expect(d.sodConflicts).toEqual([]);
  });
});

describe('combination semantics', () => {
  const rules = `
  - id: allow-all
    effect: auto_approve
    reason: allowed
  - id: deny-prod
    match: { environments: [prod] }
    effect: deny
    reason: "no prod for {{subject.id}}"
  - id: mgr
    match: { sensitivities: [medium] }
    effect: require_approval
    reason: manager
    stages: [{ name: manager, approvers: [manager] }]
    constraints: { maxDuration: P7D, credentialType: static, breakGlassAllowed: true }
  - id: sec
    match: { sensitivities: [medium] }
    effect: require_approval
    reason: security
    stages: [{ name: security, approvers: [security, "group:sre"], quorum: 2 }, { name: manager, approvers: [manager] }]
    constraints: { maxDuration: P1D, credentialType: short_lived, breakGlassAllowed: false }
`;
  const bundle = inlineBundle(rules);

  it('Given no rule matches, When evaluated, Then the decision fails closed with a reason', () => {
    const d = evaluate(inlineBundle('  - id: only-prod\n    match: { environments: [prod] }\n    effect: auto_approve\n    reason: ok\n'), humanInput());
    expect(d.effect).toBe('deny');
    expect(d.reasons[0]).toMatch(/denied by default$/);
    expect(d.matchedRules).toEqual([]);
  });

  it('Given an allow and a deny both match, When evaluated, Then deny wins and the deny reason comes first', () => {
    const d = evaluate(bundle, humanInput({ entitlements: [entitlement({ environment: 'prod' })] }));
    expect(d.effect).toBe('deny');
    expect(d.reasons[0]).toBe('no prod for hanna');
    expect(d.matchedRules).toEqual(['allow-all', 'deny-prod']);
    expect(d.route).toEqual([]);
  });

  it('Given several approval rules, When evaluated, Then stages are unioned and deduplicated in bundle order and constraints are the strictest', () => {
    const d = evaluate(bundle, humanInput({ entitlements: [entitlement({ sensitivity: 'medium' })] }));
    expect(d.route).toEqual([
      { name: 'manager', approvers: [{ resolver: 'manager', ref: 'max' }], quorum: 1 },
      {
        name: 'security',
        approvers: [
          { resolver: 'security', ref: null },
          { resolver: 'group', ref: 'sre' },
        ],
        quorum: 2,
      },
    ]);
    expect(d.constraints).toEqual({
      maxDuration: 'P1D',
      credentialType: 'short_lived',
      recertificationEvery: null,
      breakGlassAllowed: false,
      reviewRequired: false,
    });
  });

  it('Given one entitlement is approvable and another denied in the same request, When evaluated, Then the whole request is denied', () => {
    const d = evaluate(bundle, humanInput({ entitlements: [entitlement(), entitlement({ id: 'p', environment: 'prod' })] }));
    expect(d.effect).toBe('deny');
    expect(d.entitlements.map((e) => e.effect)).toEqual(['auto_approve', 'deny']);
  });

  it('Given a deny rule in record mode, When it matches, Then it is reported as "would have denied" and not enforced', () => {
    const b = inlineBundle(`
  - id: allow-all
    effect: auto_approve
    reason: allowed
  - id: new-deny
    mode: record
    effect: deny
    reason: "would refuse {{entitlement.id}}"
`);
    const d = evaluate(b, humanInput());
    expect(d.effect).toBe('auto_approve');
    expect(d.matchedRules).toEqual(['allow-all']);
    expect(d.recordOnly).toEqual([{ ruleId: 'new-deny', wouldHave: 'deny', entitlementId: 'wiki-read', reason: 'would refuse wiki-read' }]);
  });

  it('Given only a record-mode allow matches, When evaluated, Then the decision still fails closed', () => {
    const d = evaluate(inlineBundle('  - id: a\n    mode: record\n    effect: auto_approve\n    reason: ok\n'), humanInput());
    expect(d.effect).toBe('deny');
    expect(d.recordOnly).toHaveLength(1);
  });

  it('Given a deny rule whose condition fails at runtime, When evaluated, Then it counts as matched (fail closed); an allow rule that fails does not', () => {
    const b = inlineBundle(`
  - id: allow-if
    when: subject.attributes.level > 3
    effect: auto_approve
    reason: allowed
  - id: allow-all
    effect: auto_approve
    reason: allowed
  - id: deny-if
    when: subject.attributes.blocked == true
    effect: deny
    reason: blocked
`);
    const d = evaluate(b, humanInput());
    expect(d.effect).toBe('deny');
    expect(d.reasons[0]).toMatch(/^blocked \(condition could not be evaluated: .*failing closed\)$/);
    const { trace } = simulate(b, humanInput());
    expect(trace.find((t) => t.ruleId === 'allow-if')?.outcome).toBe('condition_error');
  });

  it('Given the bundle clamps durations, When a request exceeds the maximum, Then it is granted for the maximum with a reason', () => {
    const b = inlineBundle('  - id: a\n    effect: auto_approve\n    reason: ok\n    constraints: { maxDuration: PT4H }\n', {}, 'clamp');
    const d = evaluate(b, humanInput({ request: { id: 'r', duration: 'P2D' } }));
    expect(d).toMatchObject({ effect: 'auto_approve', effectiveDuration: 'PT4H' });
    expect(d.reasons).toContain('requested duration P2D clamped to the maximum PT4H');
  });

  it("Given the entitlement's own maximum is shorter than the rules', When evaluated, Then the entitlement's maximum applies", () => {
    const b = inlineBundle('  - id: a\n    effect: auto_approve\n    reason: ok\n    constraints: { maxDuration: P7D }\n');
    const d = evaluate(b, humanInput({ request: { id: 'r', duration: 'PT3H' }, entitlements: [entitlement({ maxDuration: 'PT2H' })] }));
    expect(d.effect).toBe('deny');
    expect(d.constraints.maxDuration).toBe('PT2H');
  });

  it('Given time is injected, When conditions read `now`, Then the outcome depends on the input time only', () => {
    const b = inlineBundle('  - id: office-hours\n    when: now.getHours() >= 8 && now.getHours() < 18\n    effect: auto_approve\n    reason: ok\n');
    expect(evaluate(b, humanInput({ now: '2025-06-02T09:00:00Z' })).effect).toBe('auto_approve');
    expect(evaluate(b, humanInput({ now: '2025-06-02T21:00:00Z' })).effect).toBe('deny');
  });

  it('Given a risk model with escalation, When the score crosses the threshold, Then security is added and the factors are listed', () => {
    const d = run('aiAgentAdmin');
    expect(d.risk.score).toBeGreaterThanOrEqual(70);
    expect(d.risk.factors.map((f) => f.id)).toEqual(expect.arrayContaining(['ai-agent', 'admin-privilege', 'critical-sensitivity', 'production']));
    expect(d.route.map((s) => s.name)).toContain('security');
    expect(d.recordOnly.map((r) => r.ruleId)).toContain('after-hours-admin-watch');
  });

  it('Given an invalid input, When evaluated, Then it is refused before any rule runs', () => {
    expect(() => evaluate(shipped, { ...humanInput(), entitlements: [] })).toThrow();
    expect(() => evaluate(shipped, humanInput({ request: { id: 'r', duration: 'P1M' } }))).toThrow(/ISO 8601/);
  });
});

describe('provenance', () => {
  it.each(Object.keys(scenarios))('Given the recorded decision for %s, When reproduced from its snapshot and bundle, Then it is identical', (name) => {
    const recorded = run(name);
    expect(recorded.bundleDigest).toBe(shipped.digest);
    // a decision crosses Kafka as JSON: reproduce from the serialised form
    const fromLog = JSON.parse(JSON.stringify(recorded)) as Decision;
    const r = reproduce(fromLog, shipped);
    expect(r.identical).toBe(true);
    expect(canonicalJson(r.decision)).toBe(canonicalJson(recorded));
  });

  it('Given a recorded decision, When reproduced with another bundle, Then reproduction refuses and names both digests', () => {
    const other = inlineBundle('  - id: a\n    effect: auto_approve\n    reason: ok\n');
    const r = reproduce(run('humanLowNonprodRead'), other);
    expect(r).toMatchObject({ identical: false, decision: null });
  });

  it('Given a tampered recorded decision, When reproduced, Then it is reported as different', () => {
    const tampered = { ...run('nhiWithoutOwner'), effect: 'auto_approve' as const };
    expect(reproduce(tampered, shipped).identical).toBe(false);
  });
});
