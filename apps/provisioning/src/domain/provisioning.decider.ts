import {
  ApprovalBreakGlassGranted,
  ConnectorAccountDeactivated,
  ConnectorAccountDeactivationFailed,
  ConnectorCredentialRotated,
  ConnectorRotationFailed,
  ApprovalRequestApproved,
  ConnectorDeprovisioned,
  ConnectorDeprovisionRequested,
  ConnectorOperationFailed,
  ConnectorProvisioned,
  ConnectorProvisionRequested,
  ConnectorStateReported,
  GrantActivated,
  GrantCreated,
  GrantCredentialIssued,
  GrantDeprovisioningRequested,
  GrantProvisioningFailed,
  GrantProvisioningRequested,
  GrantExpiryShortened,
  GrantRevoked,
  IdentityOffboarded,
  IdentityOwnerChanged,
  IdentityOwnershipTransferOpened,
  RequestWithdrawn,
  RevocationRequested,
  TimerFired,
  idempotencyKeyOf,
  isEvent,
} from '@grantline/contracts';
import type {
  CredentialType,
  DeprovisionReason,
  Envelope,
  EventDefinition,
  EventRegistry,
  GrantOperation,
  GrantToCreateSchema,
  OperationFailedData,
} from '@grantline/contracts';
import { EventFactory } from '@grantline/decider';
import type { Decider, EventIdOf } from '@grantline/decider';
import type { z } from 'zod';
import type { GrantState } from './grant.state';
import { REMOVABLE } from './grant.state';
import { ProvisioningState } from './provisioning.state';
import type { EntitlementTarget, ProvisioningView } from './provisioning.state';
import { targetAccountOf } from './target-account';
import { ROTATION_RESULTS, rotationAfterResult, rotationAfterUse, rotationsAfterOwnerChange } from './rotation';
import { CERTIFICATION_OUTCOMES, certificationEffectOf, grantOfOutcome } from './certification-reaction';
import { DEACTIVATION_RESULTS, deactivationAfterResult, deactivationsOnLeave, deactivationsRetried, leaverAccessesOf } from './account-deactivation';
import type { DeactivationEmit } from './account-deactivation';

export interface ProvisioningContext {
  readonly registry: EventRegistry;
  /** deterministicEventId in the service: the same parts give the same id, so a replayed cause derives the same events. */
  readonly eventId: EventIdOf;
  /** Commands per operation before the grant is declared failed (each one already retried inside the connector). */
  readonly maxAttempts: number;
  /** Connectors this instance commands; grants for others are left to the instance that owns them. */
  readonly connectorIds: readonly string[];
  readonly source?: string;
}

/**
 * The provisioning decider: the command is the input event (an approval, a connector result, a removal
 * trigger), the state is the grants with the catalogue and identities they are provisioned from.
 */
export interface ProvisioningDecider extends Decider<Envelope, Envelope, ProvisioningState> {
  /**
   * Why `command` leads to less than it asks for (an entitlement in no catalogue, a connector handled by another
   * instance, a stale connector result), for the log. A separate pure function rather than a callback inside
   * decide: the reasons are as replayable as the events, and decide stays events-only.
   */
  explain(command: Envelope, state: ProvisioningView): readonly string[];
}

/** The events decide acts on; every other event decides nothing. */
export const PROVISIONING_COMMANDS = [
  ApprovalRequestApproved,
  ApprovalBreakGlassGranted,
  ConnectorProvisioned,
  ConnectorDeprovisioned,
  ConnectorOperationFailed,
  TimerFired,
  RequestWithdrawn,
  RevocationRequested,
  IdentityOffboarded,
  IdentityOwnershipTransferOpened,
  IdentityOwnerChanged,
  ...ROTATION_RESULTS,
  ...CERTIFICATION_OUTCOMES,
  ...DEACTIVATION_RESULTS,
] as const;

export const PROVISIONING_SOURCE = 'grantline/provisioning';

/** Every event this service writes gets its metadata here (reconciliation's too). */
export function provisioningEvents(context: Pick<ProvisioningContext, 'registry' | 'eventId' | 'source'>): EventFactory {
  return new EventFactory(context.registry, { source: context.source ?? PROVISIONING_SOURCE, actor: { kind: 'service', id: 'provisioning' } }, context.eventId);
}

/** Deterministic per (grant, operation, attempt): a redelivered command is recognisably the same command. */
export function commandIdOf(grantId: string, operation: GrantOperation, attempt: number): string {
  return `${idempotencyKeyOf(grantId, operation)}:${attempt}`;
}

export function makeProvisioningDecider(context: ProvisioningContext): ProvisioningDecider {
  const factory = provisioningEvents(context);
  return {
    initialState: () => new ProvisioningState(),
    evolve: (state, event) => {
      if (!ProvisioningState.folds(event)) return state;
      const next = state.clone();
      next.apply(event);
      return next;
    },
    decide: (command, state) => decide(command, state, context, factory),
    explain: (command, state) => explain(command, state, context),
  };
}

type GrantRef = { readonly grantId: string; readonly requestId: string };

/** One command's decision under way: `emit` derives every event from the command. */
interface Decision {
  readonly command: Envelope;
  readonly state: ProvisioningView;
  readonly context: ProvisioningContext;
  emit<TData>(def: EventDefinition<string, TData>, data: TData, grant: GrantRef): void;
  /** A leaver's account deactivation: keyed and correlated by the identity, one id per (cause, type, connector). */
  emitDeactivation(emitted: DeactivationEmit): void;
}

function decide(command: Envelope, state: ProvisioningView, context: ProvisioningContext, factory: EventFactory): Envelope[] {
  const events: Envelope[] = [];
  const out: Decision = {
    command,
    state,
    context,
    emit: <TData>(def: EventDefinition<string, TData>, data: TData, grant: GrantRef) => {
      const latest = context.registry.latestOf(def.name) as EventDefinition<string, TData>;
      // The cause, the type and the grant fix the id; every event of a request is keyed and correlated by the request.
      events.push(
        factory.derive(latest, data, {
          idParts: ['provisioning', command.id, def.type, grant.grantId],
          cause: command,
          subject: grant.requestId,
          correlationId: grant.requestId,
        }),
      );
    },
    emitDeactivation: ({ definition, data }) => {
      const { identityId, connectorId } = data as { identityId: string; connectorId: string };
      const latest = context.registry.latestOf(definition.name);
      events.push(
        factory.derive(latest, data, {
          idParts: ['provisioning', command.id, definition.type, identityId, connectorId],
          cause: command,
          subject: identityId,
          correlationId: identityId,
        }),
      );
    },
  };
  if (isEvent(command, ApprovalRequestApproved)) {
    const { requestId, beneficiaryId, grants, basis } = command.data;
    for (const grant of grants) createGrant(out, { requestId, beneficiaryId, grant, decisionId: basis.decisionId, breakGlass: basis.kind === 'break_glass' });
  } else if (isEvent(command, ApprovalBreakGlassGranted)) {
    const { requestId, beneficiaryId, grants, decisionId } = command.data;
    for (const grant of grants) createGrant(out, { requestId, beneficiaryId, grant, decisionId, breakGlass: true });
  } else if (isEvent(command, ConnectorProvisioned)) {
    const grant = currentGrantOf(state, { ...command.data, operation: 'provision' });
    if (!grant) return [];
    const { externalId, credential, completedAt } = command.data;
    out.emit(GrantActivated, { grantId: grant.grantId, activatedAt: completedAt, expiresAt: grant.expiresAt, ...(externalId ? { externalId } : {}) }, grant);
    if (credential) {
      out.emit(
        GrantCredentialIssued,
        {
          grantId: grant.grantId,
          credentialId: credential.credentialId,
          credentialType: credential.type,
          credentialRef: credential.credentialRef,
          fingerprint: credential.fingerprint,
          issuedAt: completedAt,
          expiresAt: credential.expiresAt,
        },
        grant,
      );
    }
  } else if (isEvent(command, ConnectorDeprovisioned)) {
    const grant = currentGrantOf(state, { ...command.data, operation: 'deprovision' });
    if (!grant) return [];
    out.emit(GrantRevoked, { grantId: grant.grantId, reason: grant.deprovisionReason ?? 'revocation', revokedAt: command.data.completedAt }, grant);
    // Break-glass: nothing learnt while the access was live may still work, so the connector rotates what it used.
    for (const { definition, data } of rotationAfterUse(grant, command.id)) out.emit(definition, data, grant);
  } else if (isEvent(command, ConnectorCredentialRotated) || isEvent(command, ConnectorRotationFailed)) {
    const grant = state.grant(command.data.grantId);
    const rotatable = grant && { ...grant, entitlementRef: state.entitlement(grant.entitlementId)?.externalRef };
    for (const { definition, data } of rotationAfterResult(command, rotatable, context.maxAttempts)) if (grant) out.emit(definition, data, grant);
  } else if (isEvent(command, IdentityOwnerChanged)) {
    // Whoever owned the machine identity may hold its secrets: its credential-bearing grants get new credentials that
    // only the new owner and the identity may retrieve, and the old ones are revoked.
    const grants = state
      .grantsOfBeneficiary(command.data.identityId)
      .filter((grant) => context.connectorIds.includes(grant.connectorId))
      .map((grant) => ({ ...grant, entitlementRef: state.entitlement(grant.entitlementId)?.externalRef }));
    for (const { definition, data } of rotationsAfterOwnerChange(grants, command.data, command.id, command.time)) {
      const grant = state.grant((data as { grantId: string }).grantId);
      if (grant) out.emit(definition, data, grant);
    }
  } else if (isEvent(command, ConnectorOperationFailed)) {
    onFailure(out, command.data);
  } else if (isEvent(command, TimerFired)) {
    const { kind, target } = command.data;
    const grant = kind === 'grant_expiry' && target.grantId !== undefined ? state.grant(target.grantId) : undefined;
    if (grant) removeGrant(out, grant, grant.breakGlass ? 'break_glass_ttl' : 'expiry');
    if (kind === 'ownership_transfer_due') revokeOrphanedAtDeadline(out, target);
  } else if (isEvent(command, RequestWithdrawn)) {
    for (const grant of state.grantsOfRequest(command.data.requestId)) removeGrant(out, grant, 'withdrawal');
  } else if (isEvent(command, RevocationRequested)) {
    const { data } = command;
    const grants = 'grantId' in data ? [state.grant(data.grantId)].flatMap((grant) => (grant ? [grant] : [])) : state.grantsOfRequest(data.requestId);
    for (const grant of grants) removeGrant(out, grant, 'revocation');
  } else if (grantOfOutcome(command) !== undefined) {
    // A recertification: revoked (answered or lapsed) by the normal removal path, or reduced to an earlier expiry.
    const grant = state.grant(grantOfOutcome(command) ?? '');
    const effect = certificationEffectOf(command, grant);
    if (grant && effect?.kind === 'revoke') removeGrant(out, grant, 'revocation');
    if (grant && effect?.kind === 'shorten') out.emit(GrantExpiryShortened, effect.data, grant);
  } else if (isEvent(command, IdentityOffboarded)) {
    const { identityId } = command.data;
    for (const grant of state.grantsOfBeneficiary(identityId)) removeGrant(out, grant, 'offboarding');
    // Beside the revocations: the leaver's account itself, once per connector whose system deactivates leavers' accounts.
    const accesses = leaverAccessesOf(
      state.grantsOfBeneficiary(identityId),
      (grant) => context.connectorIds.includes(grant.connectorId) && state.deactivatesLeaverAccounts(grant.systemId),
    );
    const current = (connectorId: string) => state.accountDeactivation(identityId, connectorId);
    for (const emitted of deactivationsOnLeave(identityId, accesses, current, command.id)) out.emitDeactivation(emitted);
  } else if (isEvent(command, ConnectorAccountDeactivated) || isEvent(command, ConnectorAccountDeactivationFailed)) {
    const { identityId, connectorId } = command.data;
    const grantIds = grantIdsThrough(state, identityId, connectorId);
    const deactivation = state.accountDeactivation(identityId, connectorId);
    for (const emitted of deactivationAfterResult(command, deactivation, grantIds, context.maxAttempts, command.id)) out.emitDeactivation(emitted);
  } else if (isEvent(command, IdentityOwnershipTransferOpened)) {
    // The owner left: the frozen NHI's grants go now when the ownership policy says so (the grant schemas are frozen,
    // so the reason is `offboarding`; the causation, this case, says whose).
    if (command.data.grantsDisposition === 'revoke_now') {
      for (const grant of state.grantsOfBeneficiary(command.data.identityId)) removeGrant(out, grant, 'offboarding');
    }
  } else if (isEvent(command, ConnectorStateReported)) {
    // A connector that just read its whole target is reachable again: every removal that gave up on it (and alerted)
    // is tried once more. With the periodic reconciliation this retries a revocation for as long as it fails.
    if (command.data.lastPage && context.connectorIds.includes(command.data.connectorId)) {
      for (const grant of state.grantsOfConnector(command.data.connectorId)) {
        if (grant.status === 'irrevocable') removeGrant(out, grant, grant.deprovisionReason ?? 'revocation');
      }
      const failed = state.accountDeactivationsOfConnector(command.data.connectorId);
      const grantIdsOf = ({ identityId, connectorId }: { identityId: string; connectorId: string }) => grantIdsThrough(state, identityId, connectorId);
      for (const emitted of deactivationsRetried(failed, grantIdsOf, command.id)) out.emitDeactivation(emitted);
    }
  }
  return events;
}

/** The grants through which an identity has (or had) an account in a connector's target. */
function grantIdsThrough(state: ProvisioningView, identityId: string, connectorId: string): string[] {
  return state
    .grantsOfBeneficiary(identityId)
    .filter((grant) => grant.connectorId === connectorId)
    .map((grant) => grant.grantId);
}

function explain(command: Envelope, state: ProvisioningView, context: ProvisioningContext): string[] {
  if (isEvent(command, ApprovalRequestApproved) || isEvent(command, ApprovalBreakGlassGranted)) {
    const refused = beneficiaryRefusal(command.data.beneficiaryId, state);
    if (refused !== undefined) return command.data.grants.map(({ grantId }) => `grant ${grantId}: ${refused}`);
    return command.data.grants.flatMap(({ grantId, entitlementId }) => {
      const placement = placementOf(grantId, entitlementId, state, context);
      return placement !== undefined && 'skip' in placement ? [placement.skip] : [];
    });
  }
  const result = resultOf(command);
  return result !== undefined && currentGrantOf(state, result) === undefined ? [`stale or unknown ${result.label} ${result.commandId}`] : [];
}

interface ConnectorResult {
  readonly grantId: string;
  readonly operation: GrantOperation;
  readonly commandId: string;
  readonly label: 'provisioned' | 'deprovisioned' | 'failure';
}

function resultOf(command: Envelope): ConnectorResult | undefined {
  if (isEvent(command, ConnectorProvisioned))
    return { grantId: command.data.grantId, commandId: command.data.commandId, operation: 'provision', label: 'provisioned' };
  if (isEvent(command, ConnectorDeprovisioned))
    return { grantId: command.data.grantId, commandId: command.data.commandId, operation: 'deprovision', label: 'deprovisioned' };
  if (isEvent(command, ConnectorOperationFailed))
    return { grantId: command.data.grantId, commandId: command.data.commandId, operation: command.data.operation, label: 'failure' };
  return undefined;
}

/** The grant a connector result is about, provided it answers the grant's latest command (an earlier attempt's result is stale). */
function currentGrantOf(state: ProvisioningView, result: Omit<ConnectorResult, 'label'>): GrantState | undefined {
  const grant = state.grant(result.grantId);
  if (!grant) return undefined;
  const expected = result.operation === 'provision' ? 'provisioning' : 'deprovisioning';
  return grant.status === expected && result.commandId === commandIdOf(grant.grantId, result.operation, grant.attempts[result.operation]) ? grant : undefined;
}

/** Where a grant is provisioned, or why not here; undefined when the grant exists already. */
function placementOf(
  grantId: string,
  entitlementId: string,
  state: ProvisioningView,
  context: ProvisioningContext,
): { target: EntitlementTarget } | { skip: string } | undefined {
  // Deterministic grant ids: a repeated approval (or the break-glass event beside its approval) finds the grant.
  if (state.grant(grantId)) return undefined;
  const target = state.entitlement(entitlementId);
  if (!target) return { skip: `grant ${grantId}: entitlement ${entitlementId} is not in any catalogue seen` };
  if (!context.connectorIds.includes(target.connectorId)) return { skip: `grant ${grantId}: connector ${target.connectorId} is not handled here` };
  return { target };
}

interface GrantToCreate {
  readonly requestId: string;
  readonly beneficiaryId: string;
  readonly grant: z.infer<typeof GrantToCreateSchema>;
  readonly decisionId: string;
  readonly breakGlass: boolean;
}

/**
 * Why nothing may be provisioned for this beneficiary, whatever order the events came in: it has left (an approval
 * that reaches provisioning after the offboarding creates nothing; the intake withdraws the request), or it is a
 * machine identity frozen until someone accepts ownership.
 */
function beneficiaryRefusal(beneficiaryId: string, state: ProvisioningView): string | undefined {
  if (state.hasLeft(beneficiaryId)) return `beneficiary ${beneficiaryId} has left (offboarded): nothing is provisioned`;
  const transfer = state.openOwnershipTransfer(beneficiaryId);
  if (transfer !== undefined) return `machine identity ${beneficiaryId} is frozen until ownership transfer ${transfer.transferId} is accepted`;
  return undefined;
}

/** An ownership transfer case's deadline passed: if it is still open, the frozen NHI loses its grants. */
function revokeOrphanedAtDeadline(out: Decision, target: { transferId?: string; identityId?: string }): void {
  if (target.identityId === undefined) return;
  const open = out.state.openOwnershipTransfer(target.identityId);
  // Accepted meanwhile (the case is closed) or a newer case: this deadline is not its to enforce.
  if (open === undefined || open.transferId !== target.transferId) return;
  for (const grant of out.state.grantsOfBeneficiary(target.identityId)) removeGrant(out, grant, 'offboarding');
}

function createGrant(out: Decision, input: GrantToCreate): void {
  const { grantId, entitlementId, expiresAt } = input.grant;
  if (beneficiaryRefusal(input.beneficiaryId, out.state) !== undefined) return;
  const placement = placementOf(grantId, entitlementId, out.state, out.context);
  if (placement === undefined || 'skip' in placement) return;
  const { target } = placement;
  const targetAccount = targetAccountOf(input.beneficiaryId, out.state.identity(input.beneficiaryId), target.connectorId);
  out.emit(
    GrantCreated,
    {
      grantId,
      requestId: input.requestId,
      beneficiaryId: input.beneficiaryId,
      entitlementId,
      systemId: target.systemId,
      connectorId: target.connectorId,
      targetAccount,
      expiresAt,
      breakGlass: input.breakGlass,
      decisionId: input.decisionId,
    },
    { grantId, requestId: input.requestId },
  );
  sendProvision(
    out,
    { grantId, requestId: input.requestId, beneficiaryId: input.beneficiaryId, connectorId: target.connectorId, targetAccount, expiresAt },
    target,
    1,
  );
}

type GrantToProvision = Pick<GrantState, 'grantId' | 'requestId' | 'beneficiaryId' | 'connectorId' | 'targetAccount' | 'expiresAt'>;

function sendProvision(out: Decision, grant: GrantToProvision, target: EntitlementTarget, attempt: number): void {
  const idempotencyKey = idempotencyKeyOf(grant.grantId, 'provision');
  out.emit(GrantProvisioningRequested, { grantId: grant.grantId, connectorId: grant.connectorId, idempotencyKey, attempt }, grant);
  out.emit(
    ConnectorProvisionRequested,
    {
      commandId: commandIdOf(grant.grantId, 'provision', attempt),
      connectorId: grant.connectorId,
      grantId: grant.grantId,
      targetAccount: grant.targetAccount,
      entitlementRef: target.externalRef,
      idempotencyKey,
      expiresAt: grant.expiresAt,
      ...(target.credentialType ? { credential: credentialAsk(out, grant, target.credentialType) } : {}),
    },
    grant,
  );
}

/**
 * The credential a grant is delivered as: it lives as long as the grant has left (the connector caps it at the grant's
 * expiry too), and only the holders may retrieve it: a person themself; a machine identity's owner of record and the
 * workload. Holders come from the identity facts provisioning folded, never from the request.
 */
function credentialAsk(out: Decision, grant: GrantToProvision, type: CredentialType): { type: CredentialType; ttlSeconds: number; holders: string[] } {
  const secondsLeft = Math.floor((Date.parse(grant.expiresAt) - Date.parse(out.command.time)) / 1000);
  return {
    type,
    ttlSeconds: Math.min(Math.max(secondsLeft, MIN_CREDENTIAL_TTL_SECONDS), MAX_CREDENTIAL_TTL_SECONDS),
    holders: credentialHoldersOf(grant.beneficiaryId, out.state),
  };
}

const MIN_CREDENTIAL_TTL_SECONDS = 60;
const MAX_CREDENTIAL_TTL_SECONDS = 31_536_000;

export function credentialHoldersOf(beneficiaryId: string, state: ProvisioningView): string[] {
  const identity = state.identity(beneficiaryId);
  if (identity === undefined || identity.kind === 'human') return [beneficiaryId];
  return [...new Set([identity.ownerId, beneficiaryId])];
}

function removeGrant(out: Decision, grant: GrantState, reason: DeprovisionReason): void {
  // Already on its way out (or out): the first trigger's reason stands and no second command is sent. An irrevocable
  // grant is the exception: its removal gave up, so any later trigger is a new attempt, numbered after the last one
  // (a command numbered like an old one would be taken for that one's stale answer).
  if (!REMOVABLE.has(grant.status)) return;
  const attempt = grant.attempts.deprovision + 1;
  const target = out.state.entitlement(grant.entitlementId);
  if (!target) {
    // Cannot even name what to revoke: never silent, the grant is irrevocable until someone acts.
    out.emit(GrantDeprovisioningRequested, deprovisioningData(out, grant, reason, attempt), grant);
    failTerminally(out, grant, 'deprovision', {
      code: 'entitlement_unknown',
      reason: `entitlement ${grant.entitlementId} is in no catalogue`,
      retriable: false,
      attempts: attempt,
    });
    return;
  }
  sendDeprovision(out, grant, target.externalRef, reason, attempt);
}

function deprovisioningData(out: Decision, grant: GrantState, reason: DeprovisionReason, attempt: number) {
  return {
    grantId: grant.grantId,
    connectorId: grant.connectorId,
    reason,
    idempotencyKey: idempotencyKeyOf(grant.grantId, 'deprovision'),
    attempt,
    triggeredBy: out.command.id,
  };
}

function sendDeprovision(out: Decision, grant: GrantState, entitlementRef: string, reason: DeprovisionReason, attempt: number): void {
  const data = deprovisioningData(out, grant, reason, attempt);
  out.emit(GrantDeprovisioningRequested, data, grant);
  out.emit(
    ConnectorDeprovisionRequested,
    {
      commandId: commandIdOf(grant.grantId, 'deprovision', attempt),
      connectorId: grant.connectorId,
      grantId: grant.grantId,
      targetAccount: grant.targetAccount,
      entitlementRef,
      idempotencyKey: data.idempotencyKey,
      reason,
    },
    grant,
  );
}

function onFailure(out: Decision, failure: OperationFailedData): void {
  const grant = currentGrantOf(out.state, failure);
  if (!grant) return;
  const attempts = grant.attempts[failure.operation];
  const retriable = failure.errorClass === 'retriable';
  const target = out.state.entitlement(grant.entitlementId);
  const details = { code: failure.code, reason: failure.message, retriable, attempts };
  if (!retriable || attempts >= out.context.maxAttempts || !target) {
    failTerminally(out, grant, failure.operation, details);
    return;
  }
  out.emit(
    GrantProvisioningFailed,
    { grantId: grant.grantId, operation: failure.operation, ...details, terminal: false, nextAttemptAt: failure.failedAt },
    grant,
  );
  if (failure.operation === 'provision') sendProvision(out, grant, target, attempts + 1);
  else sendDeprovision(out, grant, target.externalRef, grant.deprovisionReason ?? 'revocation', attempts + 1);
}

function failTerminally(
  out: Decision,
  grant: GrantState,
  operation: GrantOperation,
  details: { code: string; reason: string; retriable: boolean; attempts: number },
): void {
  out.emit(GrantProvisioningFailed, { grantId: grant.grantId, operation, ...details, terminal: true }, grant);
  // The notifier alerts on a terminal failure (it alone writes the notifications topic).
}
