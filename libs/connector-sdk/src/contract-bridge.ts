import type {
  AccountDeactivationCommandData,
  ConnectorAccountDeactivatedData,
  ConnectorAccountDeactivationFailedData,
  CredentialRotatedV2Data,
  DeprovisionRequestedData,
  DeprovisionedData,
  OperationFailedData,
  ProvisionRequestedData,
  ProvisionedData,
  RotationFailedV2Data,
  RotationRequestedV2Data,
  StateReportedData,
} from '@grantline/contracts';
import type { ActualStateResult, ConnectorRunner, OperationResult } from './connector-runner';
import type { AccountDeactivationResult, RotationResult } from './connector-runner';

/**
 * The only place that knows both vocabularies: the event catalogue's connector commands and
 * results on one side, the runner's operations and results on the other. With it a connector
 * service is: decode envelope → `runContractCommand` → publish `{ kind, data }` under the
 * matching definition (provisioned → ConnectorProvisioned, deprovisioned →
 * ConnectorDeprovisioned, operation_failed → ConnectorOperationFailed).
 */
export type ContractCommand = { operation: 'provision'; data: ProvisionRequestedData } | { operation: 'deprovision'; data: DeprovisionRequestedData };

export type ContractResult =
  { kind: 'provisioned'; data: ProvisionedData } | { kind: 'deprovisioned'; data: DeprovisionedData } | { kind: 'operation_failed'; data: OperationFailedData };

const MAX_MESSAGE = 500;

export function operationFromContract(command: ContractCommand): Record<string, unknown> {
  const { data } = command;
  return {
    grantId: data.grantId,
    operation: command.operation,
    idempotencyKey: data.idempotencyKey,
    account: data.targetAccount,
    entitlementRef: data.entitlementRef,
    ...(command.operation === 'provision' ? { expiresAt: command.data.expiresAt } : {}),
    ...(command.operation === 'provision' && command.data.credential ? { credential: command.data.credential } : {}),
  };
}

export function resultToContract(command: ContractCommand, result: OperationResult): ContractResult {
  const { data } = command;
  const common = { commandId: data.commandId, connectorId: data.connectorId, grantId: data.grantId, idempotencyKey: data.idempotencyKey };
  if (result.status === 'failed') {
    return {
      kind: 'operation_failed',
      data: {
        ...common,
        operation: command.operation,
        errorClass: result.errorClass,
        code: result.code,
        message: result.message.slice(0, MAX_MESSAGE) || result.code,
        failedAt: result.completedAt,
      },
    };
  }
  const alreadyApplied = result.replayed || !result.changed;
  if (result.status === 'deprovisioned') {
    return { kind: 'deprovisioned', data: { ...common, completedAt: result.completedAt, alreadyApplied } };
  }
  const credential = result.credential;
  return {
    kind: 'provisioned',
    data: {
      ...common,
      completedAt: result.completedAt,
      alreadyApplied,
      ...(credential
        ? {
            credential: {
              credentialId: credential.credentialId,
              type: (command.operation === 'provision' && command.data.credential?.type) || 'database_role',
              credentialRef: credential.secretRef,
              fingerprint: credential.fingerprint,
              expiresAt: credential.expiresAt,
            },
          }
        : {}),
    },
  };
}

/**
 * The fields of the terminal refusal every contract command gets when it was addressed to another connector: it is
 * answered before anything touches the target.
 */
function misdeliveredRefusal(runner: ConnectorRunner, addressedTo: string) {
  return {
    status: 'failed' as const,
    connectorId: runner.connectorId,
    errorClass: 'terminal' as const,
    code: 'invalid_request' as const,
    message: `command for connector ${addressedTo} delivered to ${runner.connectorId}`,
    attempts: 0,
    exhausted: false,
    completedAt: runner.clock.now().toISOString(),
  };
}

/** Refuses commands addressed to another connector before anything touches the target. */
export async function runContractCommand(runner: ConnectorRunner, command: ContractCommand): Promise<ContractResult> {
  if (command.data.connectorId !== runner.connectorId) {
    return resultToContract(command, {
      ...misdeliveredRefusal(runner, command.data.connectorId),
      grantId: command.data.grantId,
      idempotencyKey: command.data.idempotencyKey,
    });
  }
  return resultToContract(command, await runner.handle(operationFromContract(command)));
}

/** A rotation command's answer: `iga.connector.credential-rotated` or `iga.connector.rotation-failed` (v2). */
export type ContractRotationResult = { kind: 'credential_rotated'; data: CredentialRotatedV2Data } | { kind: 'rotation_failed'; data: RotationFailedV2Data };

export function rotationResultToContract(command: RotationRequestedV2Data, result: RotationResult): ContractRotationResult {
  const common = {
    commandId: command.commandId,
    connectorId: command.connectorId,
    grantId: command.grantId,
    idempotencyKey: command.idempotencyKey,
    rotation: command.rotation,
  };
  if (result.status === 'failed') {
    return {
      kind: 'rotation_failed',
      data: {
        ...common,
        errorClass: result.errorClass,
        code: result.code,
        message: result.message.slice(0, MAX_MESSAGE) || result.code,
        failedAt: result.completedAt,
      },
    };
  }
  const { credential } = result;
  return {
    kind: 'credential_rotated',
    data: {
      ...common,
      completedAt: result.completedAt,
      alreadyApplied: result.replayed || !result.changed,
      ...(credential && command.credential
        ? {
            credential: {
              credentialId: credential.credentialId,
              type: command.credential.type,
              credentialRef: credential.secretRef,
              fingerprint: credential.fingerprint,
              expiresAt: credential.expiresAt,
            },
          }
        : {}),
    },
  };
}

/** The runner's rotation operation for a v2 command: a `credential` on it asks for a replacement. */
export function rotationFromContract(command: RotationRequestedV2Data): Record<string, unknown> {
  return {
    grantId: command.grantId,
    idempotencyKey: command.idempotencyKey,
    account: command.targetAccount,
    rotation: command.rotation,
    ...(command.credential
      ? {
          replacement: {
            credentialId: command.credential.credentialId,
            type: command.credential.type,
            entitlementRef: command.entitlementRef,
            holders: command.credential.holders,
            expiresAt: command.credential.expiresAt,
          },
        }
      : {}),
  };
}

/** Runs a rotation command; one addressed to another connector is refused before anything touches the target. */
export async function runContractRotation(runner: ConnectorRunner, command: RotationRequestedV2Data): Promise<ContractRotationResult> {
  if (command.connectorId !== runner.connectorId) {
    return rotationResultToContract(command, {
      ...misdeliveredRefusal(runner, command.connectorId),
      grantId: command.grantId,
      idempotencyKey: command.idempotencyKey,
    });
  }
  return rotationResultToContract(command, await runner.rotate(rotationFromContract(command)));
}

/** An account deactivation command's answer: `iga.connector.account-deactivated` or `iga.connector.account-deactivation-failed`. */
export type ContractDeactivationResult =
  | { kind: 'account_deactivated'; data: ConnectorAccountDeactivatedData }
  | { kind: 'account_deactivation_failed'; data: ConnectorAccountDeactivationFailedData };

export function deactivationResultToContract(command: AccountDeactivationCommandData, result: AccountDeactivationResult): ContractDeactivationResult {
  const common = { commandId: command.commandId, connectorId: command.connectorId, identityId: command.identityId, idempotencyKey: command.idempotencyKey };
  if (result.status === 'failed') {
    return {
      kind: 'account_deactivation_failed',
      data: {
        ...common,
        errorClass: result.errorClass,
        code: result.code,
        message: result.message.slice(0, MAX_MESSAGE) || result.code,
        failedAt: result.completedAt,
      },
    };
  }
  return { kind: 'account_deactivated', data: { ...common, completedAt: result.completedAt, alreadyApplied: result.replayed || !result.changed } };
}

/** Runs an account deactivation command; one addressed to another connector is refused before anything touches the target. */
export async function runContractDeactivation(runner: ConnectorRunner, command: AccountDeactivationCommandData): Promise<ContractDeactivationResult> {
  if (command.connectorId !== runner.connectorId) {
    return deactivationResultToContract(command, {
      ...misdeliveredRefusal(runner, command.connectorId),
      identityId: command.identityId,
      idempotencyKey: command.idempotencyKey,
    });
  }
  return deactivationResultToContract(
    command,
    await runner.deactivateAccount({ identityId: command.identityId, idempotencyKey: command.idempotencyKey, account: command.targetAccount }),
  );
}

/** Splits an actual-state report into the catalogue's pages (at most 1000 assignments each). */
export function stateReportPages(report: ActualStateResult, reportId: string, pageSize = 1000): StateReportedData[] {
  const size = Math.max(1, Math.min(pageSize, 1000));
  const pages: StateReportedData[] = [];
  for (let start = 0; start === 0 || start < report.memberships.length; start += size) {
    const slice = report.memberships.slice(start, start + size);
    pages.push({
      connectorId: report.connectorId,
      reportId,
      observedAt: report.observedAt,
      page: pages.length + 1,
      lastPage: start + size >= report.memberships.length,
      assignments: slice.map((m) => ({ targetAccount: m.account, entitlementRef: m.entitlementRef })),
    });
  }
  return pages;
}
