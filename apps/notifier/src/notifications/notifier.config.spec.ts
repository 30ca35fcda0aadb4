import { loadNotifierConfig } from './notifier.config';

describe('notifier configuration', () => {
  it('defaults to the groups approval and provisioning addressed before', () => {
    expect(loadNotifierConfig({})).toEqual({ securityGroupId: 'security', alertGroupId: 'security-oncall' });
  });

  it('takes the groups from the environment and refuses a blank one, naming the variable', () => {
    expect(loadNotifierConfig({ NOTIFIER_SECURITY_GROUP: 'sec-team', NOTIFIER_ALERT_GROUP: 'ops' })).toEqual({
      securityGroupId: 'sec-team',
      alertGroupId: 'ops',
    });
    expect(() => loadNotifierConfig({ NOTIFIER_ALERT_GROUP: 'two words' })).toThrow(/NOTIFIER_ALERT_GROUP/);
  });
});
