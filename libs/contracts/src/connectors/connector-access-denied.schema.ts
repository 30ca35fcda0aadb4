import { z } from 'zod';
import { AccessDeniedDataSchema } from '../control/access-denied.schema';
import { defineEvent } from '../registry/event-definition';
import { CONNECTOR_ID_PLACEHOLDER, connectorResultsTopic } from '../topics/topic.catalogue';

/**
 * A refused call at a connector's API (a credential retrieval by someone who is not its holder): the shared refusal
 * shape plus the connector id, which routes it to that connector's own results topic (its single writer).
 */
export const ConnectorAccessDeniedDataSchema = AccessDeniedDataSchema.extend({
  connectorId: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,99}$/, { message: 'Invalid connector id' }),
});
export type ConnectorAccessDeniedData = z.infer<typeof ConnectorAccessDeniedDataSchema>;

export const ConnectorAccessDenied = defineEvent(
  'iga.connector.access-denied',
  1,
  connectorResultsTopic(CONNECTOR_ID_PLACEHOLDER),
  ConnectorAccessDeniedDataSchema,
);
