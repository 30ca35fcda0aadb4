import { DEFAULT_DIRECTORY_WAIT_MS, DEFAULT_SOD_SCAN_EVERY_MS, loadPolicyConfig } from './policy.config';

describe('loadPolicyConfig', () => {
  it('waits 30 s for the directory and scans for SoD violations hourly by default (unset or blank)', () => {
    expect(loadPolicyConfig({})).toEqual({ directoryWaitMs: DEFAULT_DIRECTORY_WAIT_MS, sodScanEveryMs: DEFAULT_SOD_SCAN_EVERY_MS });
    expect(DEFAULT_DIRECTORY_WAIT_MS).toBe(30_000);
    expect(loadPolicyConfig({ POLICY_DIRECTORY_WAIT_MS: ' ', SOD_SCAN_EVERY: ' ' })).toEqual({ directoryWaitMs: 30_000, sodScanEveryMs: 3_600_000 });
  });

  it('reads POLICY_DIRECTORY_WAIT_MS, 0 meaning no wait', () => {
    expect(loadPolicyConfig({ POLICY_DIRECTORY_WAIT_MS: '1500' })).toMatchObject({ directoryWaitMs: 1500 });
    expect(loadPolicyConfig({ POLICY_DIRECTORY_WAIT_MS: '0' })).toMatchObject({ directoryWaitMs: 0 });
  });

  it('reads SOD_SCAN_EVERY as an ISO-8601 duration, off meaning on demand only', () => {
    expect(loadPolicyConfig({ SOD_SCAN_EVERY: 'PT15M' })).toMatchObject({ sodScanEveryMs: 900_000 });
    expect(loadPolicyConfig({ SOD_SCAN_EVERY: 'off' })).toEqual({ directoryWaitMs: DEFAULT_DIRECTORY_WAIT_MS });
  });

  it.each(['-1', 'soon', '1.5', '3600001'])('refuses POLICY_DIRECTORY_WAIT_MS=%s, naming the variable', (value) => {
    expect(() => loadPolicyConfig({ POLICY_DIRECTORY_WAIT_MS: value })).toThrow(/invalid policy configuration: POLICY_DIRECTORY_WAIT_MS/);
  });

  it.each(['hourly', 'PT0S', 'PT0.5S'])('refuses SOD_SCAN_EVERY=%s, naming the variable', (value) => {
    expect(() => loadPolicyConfig({ SOD_SCAN_EVERY: value })).toThrow(/invalid policy configuration: SOD_SCAN_EVERY/);
  });
});
