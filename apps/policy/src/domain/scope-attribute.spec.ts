// The declared scope of a service account, from a real identity record (scalar attributes) through the
// request mapping and the shipped bundle's guardrail `sa-least-privilege-scope`.
import { resolve } from 'node:path';
import { registry } from '@grantline/contracts';
import type { CatalogPublishedData, Envelope, Identity } from '@grantline/contracts';
import { evaluate, loadBundleFromDirectory } from '@grantline/policy-engine';
import { CATALOG, catalogEvent, identityEvents, requestEvent } from '../testing/policy-scenario.fixtures';
import { evolvePolicyState, initialPolicyState } from './policy.state';
import type { PolicyState } from './policy.state';
import { mapRequestToInput, withDerivedScopes } from './request-input.mapper';

const shipped = loadBundleFromDirectory(resolve(__dirname, '../../../../policies'));

// As catalog/entitlements.yaml declares it.
const WITH_SECRETS: CatalogPublishedData = {
  ...CATALOG,
  systems: [...CATALOG.systems, { systemId: 'deploy-secrets-prod', name: 'Deploy secrets', connectorId: 'postgres', ownerId: 'sam', environment: 'prod' }],
  entitlements: [
    ...CATALOG.entitlements,
    {
      entitlementId: 'deploy-secrets-prod',
      systemId: 'deploy-secrets-prod',
      name: 'Production deployment secrets',
      externalRef: 'grantline_prod_secrets',
      sensitivity: 'high',
      environment: 'prod',
      ownerId: 'sam',
      privileges: ['read', 'write'],
      maxDuration: 'PT24H',
      requestable: true,
    },
  ],
};

const serviceAccount = (attributes: Identity['attributes']): Identity => ({
  kind: 'service_account',
  identityId: 'svc-deployer',
  displayName: 'Release deployer',
  status: 'active',
  ownerId: 'alice',
  attributes,
});

const decide = (attributes: Identity['attributes']) => {
  const facts: Envelope[] = [...identityEvents(), ...identityEvents(registry, [serviceAccount(attributes)]), catalogEvent(registry, WITH_SECRETS)];
  const state = facts.reduce<PolicyState>(evolvePolicyState, initialPolicyState());
  const request = requestEvent('scope-1', {
    subject: { id: 'svc-deployer', kind: 'service_account' },
    items: { entitlementIds: ['deploy-secrets-prod'] },
    duration: 'PT8H',
  });
  const mapped = mapRequestToInput(request, state);
  if (mapped.kind !== 'input') throw new Error(`refused: ${mapped.reasons.join('; ')}`);
  return { input: mapped.input, decision: evaluate(shipped, mapped.input) };
};

describe('withDerivedScopes', () => {
  it.each([
    ['one system', { scope: 'deploy-secrets-prod' }, ['deploy-secrets-prod']],
    ['a comma-separated list, trimmed, without blanks', { scope: ' deploy-secrets-prod, orders-db ,,' }, ['deploy-secrets-prod', 'orders-db']],
    ['an empty scope', { scope: '' }, []],
  ])('derives the scopes list from %s and keeps the attribute as it is', (_case, attributes, scopes) => {
    expect(withDerivedScopes(attributes)).toEqual({ ...attributes, scopes });
  });

  it.each([
    ['no scope', { team: 'release' }],
    ['a non-string scope', { scope: 3 }],
    ['a scalar `scopes` of its own (reserved)', { scopes: 'deploy-secrets-prod' }],
  ])('derives nothing from %s', (_case, attributes) => {
    expect(withDerivedScopes(attributes)).not.toHaveProperty('scopes');
  });
});

describe('sa-least-privilege-scope over a real identity record', () => {
  it('routes write on a system within the declared scope to the NHI owner and security (after the resource owner), for at most 24 hours', () => {
    const { input, decision } = decide({ scope: 'deploy-secrets-prod' });
    expect(input.subject.attributes).toEqual({ scope: 'deploy-secrets-prod', scopes: ['deploy-secrets-prod'] });
    expect(input.entitlements[0]).toMatchObject({ system: 'deploy-secrets-prod', privilege: 'write', environment: 'prod' });
    expect(decision.effect).toBe('require_approval');
    expect(decision.matchedRules).not.toContain('sa-least-privilege-scope');
    expect(decision.matchedRules).toContain('nhi-privileged-prod');
    // The entitlement is high-sensitivity, so its resource owner (`resource-owner-for-high`) approves first.
    expect(decision.route.map((stage) => stage.name)).toEqual(['resource_owner', 'nhi_owner', 'security']);
    // PT24H from nhi-privileged-prod (tighter than resource-owner-for-high's P7D), as the engine normalises it.
    expect(decision.constraints.maxDuration).toBe('P1D');
  });

  it('accepts the system anywhere in a comma-separated scope', () => {
    expect(decide({ scope: 'orders-db, deploy-secrets-prod' }).decision.effect).toBe('require_approval');
  });

  it.each([
    ['no scope', {}],
    ['another system in scope', { scope: 'orders-db' }],
    ['a scope that only contains the system name as a substring', { scope: 'deploy-secrets-prod-eu' }],
  ])('denies with the least-privilege reason for %s', (_case, attributes) => {
    const { decision } = decide(attributes);
    expect(decision.effect).toBe('deny');
    expect(decision.matchedRules).toContain('sa-least-privilege-scope');
    expect(decision.reasons).toContain(
      "least privilege: svc-deployer declares no scope over deploy-secrets-prod; write in prod outside a service account's declared scope is refused",
    );
  });
});
