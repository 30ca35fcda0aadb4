import { DEFAULT_DIRECTORY_WAIT_MS, loadPolicyConfig } from './policy.config';

describe('loadPolicyConfig', () => {
  it('waits 30 s for the directory by default (unset or blank)', () => {
    expect(loadPolicyConfig({})).toEqual({ directoryWaitMs: DEFAULT_DIRECTORY_WAIT_MS });
    expect(DEFAULT_DIRECTORY_WAIT_MS).toBe(30_000);
    expect(loadPolicyConfig({ POLICY_DIRECTORY_WAIT_MS: ' ' })).toEqual({ directoryWaitMs: 30_000 });
  });

  it('reads POLICY_DIRECTORY_WAIT_MS, 0 meaning no wait', () => {
    expect(loadPolicyConfig({ POLICY_DIRECTORY_WAIT_MS: '1500' })).toEqual({ directoryWaitMs: 1500 });
    expect(loadPolicyConfig({ POLICY_DIRECTORY_WAIT_MS: '0' })).toEqual({ directoryWaitMs: 0 });
  });

  it.each(['-1', 'soon', '1.5', '3600001'])('refuses %s, naming the variable', (value) => {
    expect(() => loadPolicyConfig({ POLICY_DIRECTORY_WAIT_MS: value })).toThrow(/invalid policy configuration: POLICY_DIRECTORY_WAIT_MS/);
  });
});
