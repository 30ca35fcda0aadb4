import { registry } from '@grantline/contracts';
import type { MessageBus } from '@grantline/messaging';
import { KafkaEventTransport } from './kafka-event.transport';

const unusedBus = {} as MessageBus;

describe('KafkaEventTransport topic derivation', () => {
  it('given a handler for a request event, when listening, then it consumes the requests topic', () => {
    const transport = new KafkaEventTransport({ bus: unusedBus, registry, groupId: 'g' });
    transport.addHandler('iga.request.submitted.v2', async () => undefined, true);
    expect(transport.subscribedTopics()).toEqual(['iga.requests.v1']);
  });

  it('given a handler for connector results, when connectors are named, then one results topic per connector', () => {
    const transport = new KafkaEventTransport({ bus: unusedBus, registry, groupId: 'g', connectorIds: ['postgres', 'ldap'] });
    transport.addHandler('iga.connector.provisioned.v1', async () => undefined, true);
    expect(transport.subscribedTopics()).toEqual(['iga.connectors.ldap.results.v1', 'iga.connectors.postgres.results.v1']);
  });

  it('given a handler for connector results, when no connector is named, then start-up fails saying so', () => {
    const transport = new KafkaEventTransport({ bus: unusedBus, registry, groupId: 'g' });
    transport.addHandler('iga.connector.provisioned.v1', async () => undefined, true);
    expect(() => transport.subscribedTopics()).toThrow(/connectorIds/);
  });
});
