import { DEFAULT_BACKTEST_MAX_MS, DEFAULT_BACKTEST_MAX_REQUESTS, loadBacktestConfig } from './backtest.config';

describe('loadBacktestConfig', () => {
  it('bounds a backtest by default: 200,000 requests, two minutes of evaluation', () => {
    expect(loadBacktestConfig({})).toEqual({ maxRequests: DEFAULT_BACKTEST_MAX_REQUESTS, maxMillis: DEFAULT_BACKTEST_MAX_MS });
    expect(loadBacktestConfig({ POLICY_BACKTEST_MAX_REQUESTS: ' ' })).toEqual({ maxRequests: 200_000, maxMillis: 120_000 });
    expect(loadBacktestConfig({ POLICY_BACKTEST_MAX_REQUESTS: '50', POLICY_BACKTEST_MAX_MS: '5000' })).toEqual({ maxRequests: 50, maxMillis: 5_000 });
  });

  it.each([
    ['POLICY_BACKTEST_MAX_REQUESTS', '0'],
    ['POLICY_BACKTEST_MAX_REQUESTS', 'all'],
    ['POLICY_BACKTEST_MAX_MS', '10'],
    ['POLICY_BACKTEST_MAX_MS', '1.5'],
  ])('refuses %s=%s, naming the variable', (variable, value) => {
    expect(() => loadBacktestConfig({ [variable]: value })).toThrow(new RegExp(`invalid policy configuration: ${variable}`));
  });
});
