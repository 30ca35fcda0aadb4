import { bufferedOutput } from '../output';
import { DEFAULT_POLICY_URL, SOD_EXIT, sodScan, tokenOf } from './sod-commands';

const answer = {
  scan: { scanId: 'sod-scan-1', identitiesScanned: 3, violations: 1, bundleDigest: 'a'.repeat(64) },
  violations: [
    {
      violationId: 'sodv-1',
      identityId: 'alice',
      combinationId: 'staging-and-prod-orders-write',
      sides: [['orders-staging-read'], ['orders-prod-write']],
      grantIds: ['req-1:orders-staging-read'],
      unmanagedEntitlementIds: ['orders-prod-write'],
    },
  ],
};
const respond = (status: number, body: unknown): jest.Mock => jest.fn(async () => new Response(JSON.stringify(body), { status }));

describe('grantline sod scan', () => {
  it('posts to the policy service with the bearer token and lists each violation; exit 1 when there are any', async () => {
    const io = bufferedOutput();
    const fetchImpl = respond(200, answer);

    expect(await sodScan({}, 'tok', io, fetchImpl)).toBe(SOD_EXIT.violations);
    expect(fetchImpl).toHaveBeenCalledWith(
      `${DEFAULT_POLICY_URL}/v1/sod/scans`,
      expect.objectContaining({ method: 'POST', headers: expect.objectContaining({ authorization: 'Bearer tok' }) }),
    );
    expect(io.stdout()).toContain('scan sod-scan-1: 3 identities, 1 violation(s)');
    expect(io.stdout()).toContain(
      'alice  staging-and-prod-orders-write  orders-staging-read + orders-prod-write  grants: req-1:orders-staging-read; on the target without a grant: orders-prod-write',
    );
  });

  it('exits 0 on a clean scan, 3 with the answer when refused, 2 without a token', async () => {
    expect(await sodScan({ url: 'http://policy:3102/' }, 'tok', bufferedOutput(), respond(200, { ...answer, violations: [] }))).toBe(SOD_EXIT.ok);

    const refused = bufferedOutput();
    expect(await sodScan({}, 'tok', refused, respond(403, { title: 'Forbidden' }))).toBe(SOD_EXIT.refused);
    expect(refused.stderr()).toContain('sod scan refused: 403');

    const usage = bufferedOutput();
    expect(await sodScan({}, tokenOf({}), usage, respond(200, answer))).toBe(SOD_EXIT.usage);
    expect(usage.stderr()).toContain('GRANTLINE_TOKEN');
    expect(tokenOf({ GRANTLINE_TOKEN: ' abc ' })).toBe('abc');
  });
});
