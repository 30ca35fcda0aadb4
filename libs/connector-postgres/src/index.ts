export { PostgresRoleConnector } from './postgres-role.connector';
export type { ManagedRoles, PostgresRoleConnectorOptions } from './postgres-role.connector';
export { classifyPostgresError, toPostgresConnectorError } from './postgres-error.classifier';
export { assertRoleName, quoteRole } from './postgres-identifier';
export { scramSha256Verifier } from './scram-verifier';
