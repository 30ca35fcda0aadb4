export { CONNECTOR_ERROR_CODES, DEFAULT_ERROR_CLASS, ConnectorError, createErrorMapper, isConnectorError, toConnectorError } from './connector-error';
export type { ConnectorErrorClass, ConnectorErrorCode, ConnectorErrorOptions, ProviderErrorClassifier, ProviderErrorMapping } from './connector-error';
export { idempotencyKeyOf } from './connector.types';
export type {
  AccountDeactivationOperation,
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
  CredentialReplacement,
  RotationOperation,
  RotationOutcome,
} from './connector.types';
export {
  accountDeactivationOperationSchema,
  connectorOperationSchema,
  credentialRequestSchema,
  rotationIdempotencyKeyOf,
  rotationOperationSchema,
} from './connector-command.schema';
export { ConnectorRunner } from './connector-runner';
export type {
  AccountDeactivationResult,
  AccountDeactivationSucceeded,
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
  deactivationResultToContract,
  operationFromContract,
  resultToContract,
  rotationFromContract,
  rotationResultToContract,
  runContractCommand,
  runContractDeactivation,
  runContractRotation,
  stateReportPages,
} from './contract-bridge';
export type { ContractCommand, ContractDeactivationResult, ContractResult, ContractRotationResult } from './contract-bridge';
