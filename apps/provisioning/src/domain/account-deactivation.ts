import {
  ConnectorAccountDeactivated,
  ConnectorAccountDeactivationFailed,
  ConnectorAccountDeactivationRequested,
  GrantAccountDeactivated,
  GrantAccountDeactivationFailed,
  GrantAccountDeactivationRequested,
  accountDeactivationKeyOf,
  isEvent,
} from '@grantline/contracts';
import type { Envelope, EventDefinition } from '@grantline/contracts';

/** The grant-topic facts of a leaver's account deactivation, folded into provisioning's state. */
export const DEACTIVATION_GRANT_EVENTS = [GrantAccountDeactivationRequested, GrantAccountDeactivated, GrantAccountDeactivationFailed] as const;
/** The connector results provisioning acts on. */
export const DEACTIVATION_RESULTS = [ConnectorAccountDeactivated, ConnectorAccountDeactivationFailed] as const;

const DEACTIVATION_TYPES: ReadonlySet<string> = new Set(DEACTIVATION_GRANT_EVENTS.map((definition) => definition.type));

export const foldsDeactivation = (event: Envelope): boolean => DEACTIVATION_TYPES.has(event.type);

/** One leaver's account in one connector. `failed`: the last attempt gave up (an alert); a later trigger tries again. */
export interface DeactivationState {
  readonly identityId: string;
  readonly connectorId: string;
  readonly targetAccount: string;
  readonly status: 'requested' | 'deactivated' | 'failed';
  /** The attempt number of the latest command. */
  readonly attempts: number;
}

/** What a deactivation decision emits; the decider derives each as an event keyed by the identity. */
export interface DeactivationEmit<TData = unknown> {
  readonly definition: EventDefinition<string, TData>;
  readonly data: TData;
}

/** The grants a leaver holds (or held) through one connector; the last one's account is the one deactivated. */
export interface LeaverAccess {
  readonly connectorId: string;
  readonly targetAccount: string;
  readonly grantIds: readonly string[];
}

/** Deterministic per (identity, connector, attempt): a redelivered command is recognisably the same command. */
export const deactivationCommandIdOf = (identityId: string, connectorId: string, attempt: number): string =>
  `${accountDeactivationKeyOf(identityId)}:${connectorId}:${attempt}`;

export const deactivationKeyOf = (identityId: string, connectorId: string): string => `${identityId}\u0000${connectorId}`;

/** A deactivation after one of its events; a duplicate or a stale event leaves it as it is. */
export function evolveDeactivation(deactivation: DeactivationState | undefined, event: Envelope): DeactivationState | undefined {
  if (isEvent(event, GrantAccountDeactivationRequested)) {
    const { identityId, connectorId, targetAccount, attempt } = event.data;
    if (deactivation && (deactivation.status === 'deactivated' || attempt <= deactivation.attempts)) return deactivation;
    return { identityId, connectorId, targetAccount, status: 'requested', attempts: attempt };
  }
  if (!deactivation || deactivation.status !== 'requested') return deactivation;
  if (isEvent(event, GrantAccountDeactivated)) return { ...deactivation, status: 'deactivated' };
  if (isEvent(event, GrantAccountDeactivationFailed) && event.data.terminal) return { ...deactivation, status: 'failed' };
  return deactivation;
}

function request(identityId: string, access: LeaverAccess, attempt: number, triggeredBy: string): DeactivationEmit[] {
  const idempotencyKey = accountDeactivationKeyOf(identityId);
  return [
    {
      definition: GrantAccountDeactivationRequested,
      data: {
        identityId,
        connectorId: access.connectorId,
        targetAccount: access.targetAccount,
        reason: 'offboarding',
        idempotencyKey,
        attempt,
        grantIds: [...access.grantIds],
        triggeredBy,
      },
    },
    {
      definition: ConnectorAccountDeactivationRequested,
      data: {
        commandId: deactivationCommandIdOf(identityId, access.connectorId, attempt),
        connectorId: access.connectorId,
        identityId,
        targetAccount: access.targetAccount,
        reason: 'offboarding',
        idempotencyKey,
      },
    },
  ] as DeactivationEmit[];
}

/**
 * A leaver's accounts, one per connector that deactivates them: asked once (a redelivered or repeated offboarding finds
 * it requested or done); one that gave up is asked again, numbered after its last attempt.
 */
export function deactivationsOnLeave(
  identityId: string,
  accesses: readonly LeaverAccess[],
  current: (connectorId: string) => DeactivationState | undefined,
  triggeredBy: string,
): DeactivationEmit[] {
  return accesses.flatMap((access) => {
    const known = current(access.connectorId);
    if (known && known.status !== 'failed') return [];
    return request(identityId, known ? { ...access, targetAccount: known.targetAccount } : access, (known?.attempts ?? 0) + 1, triggeredBy);
  });
}

/** A connector that gave up on deactivations is reachable again: each is asked once more. */
export function deactivationsRetried(
  failed: readonly DeactivationState[],
  grantIdsOf: (d: DeactivationState) => readonly string[],
  triggeredBy: string,
): DeactivationEmit[] {
  return failed
    .filter((deactivation) => deactivation.status === 'failed')
    .flatMap((deactivation) =>
      request(
        deactivation.identityId,
        { connectorId: deactivation.connectorId, targetAccount: deactivation.targetAccount, grantIds: grantIdsOf(deactivation) },
        deactivation.attempts + 1,
        triggeredBy,
      ),
    );
}

/**
 * A connector's answer: recorded when it answers the latest command (an earlier attempt's answer is stale); a retriable
 * failure is tried again up to `maxAttempts`, then the failure is terminal (an alert) until the connector reports in.
 */
export function deactivationAfterResult(
  command: Envelope,
  deactivation: DeactivationState | undefined,
  grantIds: readonly string[],
  maxAttempts: number,
  triggeredBy: string,
): DeactivationEmit[] {
  if (!deactivation || deactivation.status !== 'requested') return [];
  const { identityId, connectorId, targetAccount, attempts } = deactivation;
  if (isEvent(command, ConnectorAccountDeactivated)) {
    if (command.data.commandId !== deactivationCommandIdOf(identityId, connectorId, attempts)) return [];
    return [
      {
        definition: GrantAccountDeactivated,
        data: { identityId, connectorId, targetAccount, deactivatedAt: command.data.completedAt, alreadyApplied: command.data.alreadyApplied },
      },
    ] as DeactivationEmit[];
  }
  if (isEvent(command, ConnectorAccountDeactivationFailed)) {
    if (command.data.commandId !== deactivationCommandIdOf(identityId, connectorId, attempts)) return [];
    const retriable = command.data.errorClass === 'retriable';
    const terminal = !retriable || attempts >= maxAttempts;
    const failed = {
      definition: GrantAccountDeactivationFailed,
      data: {
        identityId,
        connectorId,
        targetAccount,
        code: command.data.code,
        reason: command.data.message,
        retriable,
        attempts,
        terminal,
        failedAt: command.data.failedAt,
      },
    } as DeactivationEmit;
    return terminal ? [failed] : [failed, ...request(identityId, { connectorId, targetAccount, grantIds }, attempts + 1, triggeredBy)];
  }
  return [];
}

/**
 * Per connector, the grants through which a leaver has (or had) an account there, for the connectors this instance
 * commands and whose systems deactivate leavers' accounts. Grants come in log order, so the last one's account is the
 * most recent name the leaver had there.
 */
export function leaverAccessesOf(
  grants: readonly { readonly grantId: string; readonly connectorId: string; readonly systemId: string; readonly targetAccount: string }[],
  deactivates: (grant: { readonly connectorId: string; readonly systemId: string }) => boolean,
): LeaverAccess[] {
  const byConnector = new Map<string, LeaverAccess>();
  for (const grant of grants) {
    if (!deactivates(grant)) continue;
    const known = byConnector.get(grant.connectorId);
    byConnector.set(grant.connectorId, {
      connectorId: grant.connectorId,
      targetAccount: grant.targetAccount,
      grantIds: [...(known?.grantIds ?? []), grant.grantId],
    });
  }
  return [...byConnector.values()];
}
