import { ServiceConfigError } from '../config/service-config.schema';
import { loadLeaseConfig } from './lease.config';

describe('loadLeaseConfig', () => {
  it('defaults to a 10 s session and an instance id of host and pid', () => {
    expect(loadLeaseConfig({})).toEqual({ sessionTimeoutMs: 10_000, instanceId: expect.stringMatching(new RegExp(`-${process.pid}$`)) });
  });

  it('reads SERVICE_LEASE_SESSION_TIMEOUT_MS and SERVICE_INSTANCE_ID', () => {
    expect(loadLeaseConfig({ SERVICE_LEASE_SESSION_TIMEOUT_MS: '6000', SERVICE_INSTANCE_ID: 'provisioning-0' })).toEqual({
      sessionTimeoutMs: 6_000,
      instanceId: 'provisioning-0',
    });
  });

  it('names every bad variable', () => {
    try {
      loadLeaseConfig({ SERVICE_LEASE_SESSION_TIMEOUT_MS: '5', SERVICE_INSTANCE_ID: 'no spaces' });
      throw new Error('expected a refusal');
    } catch (error) {
      expect(error).toBeInstanceOf(ServiceConfigError);
      expect((error as ServiceConfigError).problems.map((problem) => problem.variable)).toEqual(['SERVICE_LEASE_SESSION_TIMEOUT_MS', 'SERVICE_INSTANCE_ID']);
    }
  });
});
