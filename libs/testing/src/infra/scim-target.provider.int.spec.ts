import { SCIM_TARGET_SEED, startPrivateScimTarget } from './scim-target.provider';

const scimUrl = process.env['SCIM_URL'];
const scimToken = process.env['SCIM_BEARER_TOKEN'];

async function get(url: string, token?: string): Promise<{ status: number; body: { Resources?: { userName?: string; displayName?: string }[] } }> {
  const response = await fetch(url, { headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });
  return { status: response.status, body: (await response.json()) as { Resources?: { userName?: string; displayName?: string }[] } };
}

describe('the SCIM target in the harness', () => {
  it('is started by the global setup, exported as SCIM_URL / SCIM_BEARER_TOKEN, seeded, and refuses a request without the token', async () => {
    if (!scimUrl || !scimToken) throw new Error('SCIM_URL / SCIM_BEARER_TOKEN are not exported by the global setup');
    expect((await get(`${scimUrl}/Users`)).status).toBe(401);
    const users = await get(`${scimUrl}/Users?count=1000`, scimToken);
    expect(users.status).toBe(200);
    expect(users.body.Resources?.map((user) => user.userName)).toEqual(expect.arrayContaining([...SCIM_TARGET_SEED.users]));
    const groups = await get(`${scimUrl}/Groups?filter=${encodeURIComponent('displayName eq "grantline-crm-sales"')}`, scimToken);
    expect(groups.body.Resources).toHaveLength(1);
  });

  it('starts a private target with its own token and seed, and stops it on dispose', async () => {
    const target = await startPrivateScimTarget({ seed: { users: ['zoe'], groups: [{ displayName: 'g1', members: ['zoe'] }] } });
    try {
      expect((await get(`${target.url}/Users`, scimToken)).status).toBe(401);
      const users = await get(`${target.url}/Users`, target.token);
      expect(users.body.Resources?.map((user) => user.userName)).toEqual(['zoe']);
    } finally {
      await target.dispose();
    }
    await expect(fetch(`${target.url}/Users`)).rejects.toThrow();
  });
});
