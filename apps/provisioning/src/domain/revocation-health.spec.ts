import type { GrantState } from './grant.state';
import { revocationHealth } from './revocation-health';

const NOW = new Date('2026-01-10T12:00:00.000Z');
const MINUTE = 60_000;
const at = (minutesFromNow: number): string => new Date(NOW.getTime() + minutesFromNow * MINUTE).toISOString();

const grant = (grantId: string, fields: Partial<GrantState>): GrantState => ({
  grantId,
  requestId: 'req-1',
  beneficiaryId: 'alice',
  entitlementId: 'orders-read',
  systemId: 'orders-db',
  connectorId: 'postgres',
  targetAccount: 'alice',
  expiresAt: at(60),
  breakGlass: false,
  status: 'active',
  attempts: { provision: 1, deprovision: 0 },
  ...fields,
});

describe('revocationHealth', () => {
  it('given grants in every state, then each status is counted and only late removals are overdue', () => {
    const grants = [
      grant('active-in-time', {}),
      grant('active-past-expiry-within-allowance', { expiresAt: at(-4) }),
      grant('active-past-expiry-beyond-allowance', { expiresAt: at(-6) }),
      grant('removal-asked-recently', { status: 'deprovisioning', deprovisionRequestedAt: at(-1) }),
      grant('removal-waiting-too-long', { status: 'deprovisioning', deprovisionRequestedAt: at(-10) }),
      grant('irrevocable', { status: 'irrevocable', deprovisionRequestedAt: at(-1) }),
      grant('revoked-long-ago', { status: 'revoked', expiresAt: at(-600) }),
      grant('elsewhere-irrevocable', { status: 'irrevocable', connectorId: 'ldap' }),
    ];

    const health = revocationHealth(grants, NOW, 5 * MINUTE);

    expect(health.overdue).toBe(4);
    expect(health.overdueByConnector).toEqual({ postgres: 3, ldap: 1 });
    expect(health.byStatus).toEqual({ requested: 0, provisioning: 0, active: 3, deprovisioning: 2, revoked: 1, failed: 0, irrevocable: 2 });
  });

  it('given no grants, then nothing is overdue', () => {
    expect(revocationHealth([], NOW, MINUTE).overdue).toBe(0);
  });
});
