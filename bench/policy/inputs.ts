// Deterministic, varied inputs for the policy benchmark (one entitlement per request, so all three
// engines answer exactly the same question).
import type { PolicyInputDraft } from '@grantline/policy-engine';

const KINDS = ['human', 'human', 'human', 'service_account', 'api_key', 'workload', 'ci_pipeline', 'ai_agent'] as const;
const SENS = ['low', 'medium', 'high', 'critical'] as const;
const ENVS = ['prod', 'nonprod'] as const;
const PRIVS = ['read', 'write', 'admin'] as const;
const SYSTEMS = ['payments', 'wiki', 'db', 'deploy'] as const;

// small LCG: same inputs on every run and machine
const rng = (seed: number) => () => {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed / 2147483648;
};

export const benchInputs = (n: number): PolicyInputDraft[] => {
  const r = rng(42);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
  return Array.from({ length: n }, (_, i) => {
    const kind = pick(KINDS);
    return {
      request: { id: `req-${i}`, duration: r() < 0.1 ? null : 'PT8H', justification: 'benchmark', emergency: false },
      subject: {
        id: `s-${i}`,
        kind,
        manager: kind === 'human' ? 'max' : null,
        ownerOfRecord: kind !== 'human' && r() < 0.9 ? 'alice' : null,
        attributes: { scope: [pick(SYSTEMS), pick(SYSTEMS)] },
      },
      requester: { id: 'alice' },
      entitlements: [{ id: `e-${i}`, system: pick(SYSTEMS), sensitivity: pick(SENS), environment: pick(ENVS), owner: 'bob', privilege: pick(PRIVS) }],
      grants: [],
      now: '2025-06-02T10:00:00Z',
    };
  });
};
