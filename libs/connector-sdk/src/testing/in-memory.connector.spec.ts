import { describeConnectorConformance } from '../conformance/connector-conformance.suite';
import { InMemoryConnector } from './in-memory.connector';

// The fake must pass the same kit as real connectors, or tests built on it prove nothing.
describeConnectorConformance('in-memory', async () => {
  const accounts = ['alice', 'bob'] as const;
  const connector = new InMemoryConnector({
    id: 'in-memory',
    accounts,
    entitlements: ['gl_readers', 'gl_writers', 'superuser'],
    managedPrefix: 'gl_',
  });
  return {
    connector,
    accounts,
    entitlements: ['gl_readers', 'gl_writers'],
    missingEntitlement: 'gl_missing',
    unmanagedEntitlement: 'superuser',
    newCredentialAccount: 'ci_pipeline',
    unreachableConnector: () => {
      const down = new InMemoryConnector({ id: 'in-memory-down', accounts, managedPrefix: 'gl_' });
      down.setOutage(true);
      return down;
    },
    dispose: async () => undefined,
  };
});
