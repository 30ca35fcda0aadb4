import { defineConnector } from '@grantline/connector-host';
import { KafkaAclConnector } from '@grantline/connector-kafka-acl';
import { KafkaAclAdmin } from '@grantline/messaging';
import { loadConnectorConfig } from './connector.config';

/** Kafka ACLs (JIT topic and consumer-group access for service accounts) behind the connector host. */
export const kafkaAclConnector = defineConnector({
  serviceName: 'connector-kafka-acl',
  defaultPort: 3110,
  loadConfig: loadConnectorConfig,
  create: (config) =>
    new KafkaAclConnector({
      id: config.connectorId,
      admin: new KafkaAclAdmin({
        clientId: `connector-kafka-acl-${config.connectorId}-admin`,
        brokers: config.brokers,
        ...(config.sasl === undefined ? {} : { sasl: config.sasl }),
        requestTimeoutMs: config.requestTimeoutMs,
        // the host's runner retries with backoff; kafkajs retries only briefly underneath
        retries: 2,
      }),
      managedResourcePrefix: config.managedResourcePrefix,
      managedPrincipalPrefix: config.managedPrincipalPrefix,
    }),
});
