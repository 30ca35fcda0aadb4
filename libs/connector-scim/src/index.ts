export { ScimGroupConnector } from './scim-group.connector';
export type { ManagedGroups, ScimGroupConnectorOptions } from './scim-group.connector';
export { ScimHttpError, ScimProtocolError, classifyScimError, retryAfterMs, toScimConnectorError } from './scim-error.classifier';
