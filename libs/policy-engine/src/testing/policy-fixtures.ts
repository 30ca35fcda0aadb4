// Builders for specs: a valid input with overridable parts, and tiny inline bundles.
import { loadBundleFromFiles } from '../bundle-compiler';
import type { Bundle } from '../bundle.types';
import type { PolicyInputDraft } from '../input.schema';

type EntitlementDraft = PolicyInputDraft['entitlements'][number];
type GrantDraft = NonNullable<PolicyInputDraft['grants']>[number];

export const entitlement = (over: Partial<EntitlementDraft> = {}): EntitlementDraft => ({
  id: 'wiki-read',
  system: 'wiki',
  sensitivity: 'low',
  environment: 'nonprod',
  owner: 'olivia',
  privilege: 'read',
  ...over,
});

export const grant = (over: Partial<GrantDraft> = {}): GrantDraft => ({
  entitlementId: 'wiki-read',
  system: 'wiki',
  privilege: 'read',
  environment: 'nonprod',
  status: 'active',
  ...over,
});

export const humanInput = (over: Partial<PolicyInputDraft> = {}): PolicyInputDraft => ({
  request: { id: 'req-1', duration: 'PT8H', justification: 'investigating a customer ticket' },
  subject: { id: 'hanna', kind: 'human', team: 'support', manager: 'max', attributes: {} },
  requester: { id: 'hanna' },
  entitlements: [entitlement()],
  grants: [],
  now: '2025-06-02T10:00:00Z',
  ...over,
});

export const nhiInput = (over: Partial<PolicyInputDraft> = {}): PolicyInputDraft => ({
  request: { id: 'req-2', duration: 'PT8H', justification: 'nightly settlement job' },
  subject: { id: 'svc-payments', kind: 'service_account', ownerOfRecord: 'alice', attributes: { scope: 'payments', scopes: ['payments'] } },
  requester: { id: 'alice' },
  entitlements: [entitlement({ id: 'payments-write', system: 'payments', sensitivity: 'medium', environment: 'prod', privilege: 'write', owner: 'bob' })],
  grants: [],
  now: '2025-06-02T10:00:00Z',
  ...over,
});

const MANIFEST = `kind: Bundle
name: test
version: "1"
settings:
  onDurationExceeded: %MODE%
  stageOrder: [manager, resource_owner, security]
`;

/** A bundle from a manifest plus the given RuleSet YAML (and optional extra documents). */
export const inlineBundle = (rulesYaml: string, extra: Record<string, string> = {}, mode: 'deny' | 'clamp' = 'deny'): Bundle =>
  loadBundleFromFiles([
    { path: 'bundle.yaml', content: MANIFEST.replace('%MODE%', mode) },
    { path: 'rules.yaml', content: `kind: RuleSet\nrules:\n${rulesYaml}` },
    ...Object.entries(extra).map(([path, content]) => ({ path, content })),
  ]);
