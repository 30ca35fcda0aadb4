export { CONNECTOR_ERROR_CODES, DEFAULT_ERROR_CLASS, ConnectorError, createErrorMapper, isConnectorError, toConnectorError } from './connector-error';
export type { ConnectorErrorClass, ConnectorErrorCode, ConnectorErrorOptions, ProviderErrorClassifier, ProviderErrorMapping } from './connector-error';
export { idempotencyKeyOf } from './connector.types';
export type {
  ActualState,
  ActualStateScope,
  Connector,
  ConnectorCapabilities,
  ConnectorOperation,
  ConnectorOperationKind,
  CredentialRequest,
  HealthStatus,
  IdempotencyKey,
  IssuedCredential,
  Membership,
  OperationOutcome,
  RotationOperation,
} from './connector.types';
export { connectorOperationSchema, credentialRequestSchema, rotationOperationSchema } from './connector-command.schema';
export { ConnectorRunner } from './connector-runner';
export type {
  ActualStateReport,
  ActualStateResult,
  ConnectorRunnerOptions,
  CredentialIssuedResult,
  CredentialResult,
  FailedResult,
  IssuedCredentialView,
  OperationResult,
  OperationSucceeded,
  RotationResult,
  RotationSucceeded,
} from './connector-runner';
export { DEFAULT_RETRY_OPTIONS, backoffDelayMs, runWithRetry } from './run-with-retry';
export type { RetryOptions, RetryOutcome } from './run-with-retry';
export { InMemoryIdempotencyStore } from './idempotency-store.port';
export type { IdempotencyStore, RecordedOutcome } from './idempotency-store.port';
export { InMemorySecretSink, fingerprintSecret } from './secret-sink.port';
export type { SecretSink, SecretToStore } from './secret-sink.port';
export { realSleeper, systemClock } from './time.port';
export type { Clock, Sleeper } from './time.port';
export { InMemoryConnector } from './testing/in-memory.connector';
export type { InMemoryCall, InMemoryConnectorOptions } from './testing/in-memory.connector';
export { describeConnectorConformance } from './conformance/connector-conformance.suite';
export type { ConformanceFactory, ConformanceFixture } from './conformance/connector-conformance.suite';
export {
  operationFromContract,
  resultToContract,
  rotationResultToContract,
  runContractCommand,
  runContractRotation,
  stateReportPages,
} from './contract-bridge';
export type { ContractCommand, ContractResult, ContractRotationResult } from './contract-bridge';
