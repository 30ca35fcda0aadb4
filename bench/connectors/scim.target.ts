import { randomBytes } from 'node:crypto';
import { idempotencyKeyOf } from '@grantline/connector-sdk';
// eslint-disable-next-line @nx/enforce-module-boundaries -- the bench measures the connector itself against the real target
import { ScimGroupConnector } from '@grantline/connector-scim';
import { expectChanged, timed } from './connector-latency';
import type { LatencyTarget } from './connector-latency';

/**
 * The SCIM 2.0 connector against the harness's SCIM target (tools/scim-target: SCIMMY on express, its own process).
 * Baseline: one bare authenticated `GET /Users?filter=userName eq ...`. A grant is find user → find group → PATCH add
 * (If-Match); a revoke is find user → find group → PATCH remove; each on a fresh user.
 */
export async function scimTarget(): Promise<LatencyTarget> {
  const url = process.env['SCIM_URL'];
  const token = process.env['SCIM_BEARER_TOKEN'];
  if (!url || !token) throw new Error('the SCIM bench needs the SCIM target (SCIM_URL, SCIM_BEARER_TOKEN) after infrastructure setup');
  const scim = async (method: string, path: string, body?: unknown): Promise<{ id?: string }> => {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/scim+json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${path} answered ${response.status}`);
    return (text === '' ? {} : JSON.parse(text)) as { id?: string };
  };
  const prefix = `glbench-${randomBytes(3).toString('hex')}-`;
  const group = `${prefix}sales`;
  const connector = new ScimGroupConnector({ id: 'scim', baseUrl: url, bearerToken: token, managedGroups: { prefix } });
  const created: string[] = [];
  const groupId = (await scim('POST', '/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: group })).id;
  if (groupId !== undefined) created.push(`/Groups/${groupId}`);
  return {
    name: 'scim',
    baseline: 'one GET /Users?filter',
    steps: { grant: 'grant (user, group, PATCH add)', noopGrant: 'grant again (no-op)', revoke: 'revoke (user, group, PATCH remove)' },
    async round(index) {
      const account = `${prefix}user-${index + 5}`;
      const userId = (await scim('POST', '/Users', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: account })).id;
      if (userId !== undefined) created.push(`/Users/${userId}`);
      const op = (operation: 'provision' | 'deprovision') => ({
        grantId: `g-${account}`,
        operation,
        idempotencyKey: idempotencyKeyOf(`g-${account}`, operation),
        account,
        entitlementRef: group,
      });
      return {
        baseline: await timed(() => scim('GET', `/Users?filter=${encodeURIComponent(`userName eq "${account}"`)}`)),
        grant: await timed(async () => expectChanged(await connector.provision(op('provision')), true, 'a grant to a fresh user')),
        noopGrant: await timed(async () => expectChanged(await connector.provision(op('provision')), false, 'a repeated grant')),
        revoke: await timed(async () => expectChanged(await connector.deprovision(op('deprovision')), true, 'a revoke of a live membership')),
      };
    },
    async close() {
      // users before the group; a failed delete leaves test data in an in-memory target, nothing more
      for (const path of created.reverse()) await scim('DELETE', path).catch(() => undefined);
    },
  };
}
