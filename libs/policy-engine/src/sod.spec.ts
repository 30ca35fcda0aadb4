import { loadBundleFromDirectory } from './bundle-loader';
import type { Holding } from './sod';
import { scanSodViolations } from './sod';

const bundle = loadBundleFromDirectory(`${__dirname}/../../../policies`);
const h = (entitlementId: string, system: string, privilege: Holding['privilege'], environment: Holding['environment'] = 'prod'): Holding => ({
  entitlementId,
  system,
  privilege,
  environment,
});

describe('separation of duties, detective scan', () => {
  it('Given identities with current grants, When scanned, Then exactly those holding a toxic combination are listed, sorted by identity', () => {
    const violations = scanSodViolations(bundle, {
      zoe: [h('payments-write', 'payments', 'write'), h('payments-approver', 'payments-approvals', 'read')],
      adam: [h('deploy-prod', 'deploy', 'admin'), h('audit-admin', 'audit-log', 'admin'), h('payments-approver', 'x', 'read')],
      clean: [h('payments-write', 'payments', 'write'), h('deploy-nonprod', 'deploy', 'admin', 'nonprod'), h('audit-read', 'audit-log', 'read')],
    });
    expect(violations.map((v) => [v.identityId, v.conflict.combinationId])).toEqual([
      ['adam', 'deploy-and-audit'],
      ['zoe', 'payments-maker-checker'],
    ]);
    expect(violations[1]!.conflict.sides).toEqual([['payments-write'], ['payments-approver']]);
  });

  it('Given a Map of grants, When scanned, Then the result is the same as for a plain record', () => {
    const grants = { zoe: [h('payments-write', 'payments', 'admin'), h('payments-approver', 'p', 'read')] };
    expect(scanSodViolations(bundle, new Map(Object.entries(grants)))).toEqual(scanSodViolations(bundle, grants));
  });

  it('Given nobody holds both sides, When scanned, Then there are no violations', () => {
    expect(scanSodViolations(bundle, { a: [h('payments-read', 'payments', 'read'), h('payments-approver', 'p', 'read')] })).toEqual([]);
  });
});
