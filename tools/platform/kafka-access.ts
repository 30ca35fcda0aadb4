// `npm start` on a SASL broker (ADR 0017): what `grantline kafka acls --apply` does for a deployment, done for the
// platform's namespace, and each service started with its own principal from the local credentials file.
import { kafkaNamespaceAccess as namespaceAccess } from '@grantline/messaging';
import type { KafkaNamespaceAccess } from '@grantline/messaging';
import { LOCAL_CONNECTORS } from '@grantline/testing';

export type { KafkaNamespaceAccess };

/** Undefined on a plaintext broker; on a SASL broker, the local platform's namespace provisioned with its connectors. */
export function kafkaNamespaceAccess(
  options: { readonly namespace?: string; readonly env?: NodeJS.ProcessEnv } = {},
): Promise<KafkaNamespaceAccess | undefined> {
  return namespaceAccess({ ...options, connectors: LOCAL_CONNECTORS });
}
