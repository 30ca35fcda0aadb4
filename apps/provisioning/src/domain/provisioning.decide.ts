import {
  ApprovalBreakGlassGranted,
  ApprovalRequestApproved,
  ConnectorDeprovisioned,
  ConnectorDeprovisionRequested,
  ConnectorOperationFailed,
  ConnectorProvisioned,
  ConnectorProvisionRequested,
  GrantActivated,
  GrantCreated,
  GrantCredentialIssued,
  GrantDeprovisioningRequested,
  GrantProvisioningFailed,
  GrantProvisioningRequested,
  GrantRevoked,
  IdentityOffboarded,
  RequestWithdrawn,
  RevocationRequested,
  TimerFired,
  idempotencyKeyOf,
  isEvent,
} from '@grantline/contracts';
import type {
  DeprovisionReason,
  Envelope,
  EventDefinition,
  EventRegistry,
  GrantOperation,
  GrantToCreateSchema,
  OperationFailedData,
} from '@grantline/contracts';
import type { z } from 'zod';
import type { GrantState } from './grant.state';
import { REMOVABLE } from './grant.state';
import type { ProvisioningView } from './provisioning.state';
import { targetAccountOf } from './target-account';

export interface DecideOptions {
  readonly registry: EventRegistry;
  /** Derives an event id from what caused it (deterministicEventId in the service): the same parts give the same id. */
  readonly eventId: (...parts: string[]) => string;
  /** Commands per operation before the grant is declared failed (each one already retried inside the connector). */
  readonly maxAttempts: number;
  /** Connectors this instance commands; grants for others are left to the instance that owns them. */
  readonly connectorIds: readonly string[];
  readonly source?: string;
}

export interface Decision {
  /** The events to publish, in order (grant events, connector commands). */
  readonly events: Envelope[];
  /** Why an input led to nothing, for the log (unknown entitlement, another connector, ...). */
  readonly skipped: readonly string[];
}

/** The input types `decide` acts on. */
export const DECIDE_INPUTS = [
  ApprovalRequestApproved,
  ApprovalBreakGlassGranted,
  ConnectorProvisioned,
  ConnectorDeprovisioned,
  ConnectorOperationFailed,
  TimerFired,
  RequestWithdrawn,
  RevocationRequested,
  IdentityOffboarded,
] as const;

const ACTOR = { kind: 'service', id: 'provisioning' } as const;

/** Deterministic per (grant, operation, attempt): a redelivered command is recognisably the same command. */
export function commandIdOf(grantId: string, operation: GrantOperation, attempt: number): string {
  return `${idempotencyKeyOf(grantId, operation)}:${attempt}`;
}

class Emitter {
  readonly events: Envelope[] = [];
  readonly skipped: string[] = [];

  constructor(
    private readonly cause: Envelope,
    private readonly options: DecideOptions,
  ) {}

  emit<TData>(def: EventDefinition<string, TData>, data: TData, grant: { grantId: string; requestId: string }): void {
    const meta = {
      // The cause, the type and the grant fix the id: a redelivered input yields byte-identical events.
      id: this.options.eventId('provisioning', this.cause.id, def.type, grant.grantId),
      source: this.options.source ?? 'grantline/provisioning',
      // Event time, not wall-clock time: replaying the log decides exactly as the first time did.
      time: this.cause.time,
      subject: grant.requestId,
      correlationid: grant.requestId,
      causationid: this.cause.id,
      actor: ACTOR,
    };
    this.events.push(this.options.registry.encode(this.options.registry.latestOf(def.name) as EventDefinition<string, TData>, data, meta));
  }

  get causeId(): string {
    return this.cause.id;
  }

  skip(reason: string): void {
    this.skipped.push(reason);
  }
}

/**
 * The provisioning decision: given the state and one input, the events that follow. Pure (time comes from the
 * input, ids are derived); the caller folds the returned grant events into the state before the next input.
 */
export function decide(event: Envelope, state: ProvisioningView, options: DecideOptions): Decision {
  const out = new Emitter(event, options);
  if (isEvent(event, ApprovalRequestApproved)) {
    const { requestId, beneficiaryId, grants, basis } = event.data;
    for (const grant of grants) createGrant(out, state, options, { requestId, beneficiaryId, grant, decisionId: basis.decisionId, breakGlass: basis.kind === 'break_glass' });
  } else if (isEvent(event, ApprovalBreakGlassGranted)) {
    const { requestId, beneficiaryId, grants, decisionId } = event.data;
    for (const grant of grants) createGrant(out, state, options, { requestId, beneficiaryId, grant, decisionId, breakGlass: true });
  } else if (isEvent(event, ConnectorProvisioned)) {
    const grant = state.grant(event.data.grantId);
    if (!grant || !isCurrent(grant, 'provision', event.data.commandId)) return { events: [], skipped: [`stale or unknown provisioned ${event.data.commandId}`] };
    const { externalId, credential, completedAt } = event.data;
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
  } else if (isEvent(event, ConnectorDeprovisioned)) {
    const grant = state.grant(event.data.grantId);
    if (!grant || !isCurrent(grant, 'deprovision', event.data.commandId)) return { events: [], skipped: [`stale or unknown deprovisioned ${event.data.commandId}`] };
    out.emit(GrantRevoked, { grantId: grant.grantId, reason: grant.deprovisionReason ?? 'revocation', revokedAt: event.data.completedAt }, grant);
  } else if (isEvent(event, ConnectorOperationFailed)) {
    onFailure(out, state, options, event.data);
  } else if (isEvent(event, TimerFired)) {
    const { kind, target } = event.data;
    const grant = kind === 'grant_expiry' && target.grantId !== undefined ? state.grant(target.grantId) : undefined;
    if (grant) removeGrant(out, state, grant, grant.breakGlass ? 'break_glass_ttl' : 'expiry');
  } else if (isEvent(event, RequestWithdrawn)) {
    for (const grant of state.grantsOfRequest(event.data.requestId)) removeGrant(out, state, grant, 'withdrawal');
  } else if (isEvent(event, RevocationRequested)) {
    const { data } = event;
    const grants = 'grantId' in data ? [state.grant(data.grantId)].flatMap((grant) => (grant ? [grant] : [])) : state.grantsOfRequest(data.requestId);
    for (const grant of grants) removeGrant(out, state, grant, 'revocation');
  } else if (isEvent(event, IdentityOffboarded)) {
    for (const grant of state.grantsOfBeneficiary(event.data.identityId)) removeGrant(out, state, grant, 'offboarding');
  }
  return { events: out.events, skipped: out.skipped };
}

function isCurrent(grant: GrantState, operation: GrantOperation, commandId: string): boolean {
  const expected = operation === 'provision' ? 'provisioning' : 'deprovisioning';
  return grant.status === expected && commandId === commandIdOf(grant.grantId, operation, grant.attempts[operation]);
}

interface GrantToCreate {
  readonly requestId: string;
  readonly beneficiaryId: string;
  readonly grant: z.infer<typeof GrantToCreateSchema>;
  readonly decisionId: string;
  readonly breakGlass: boolean;
}

function createGrant(out: Emitter, state: ProvisioningView, options: DecideOptions, input: GrantToCreate): void {
  const { grantId, entitlementId, expiresAt } = input.grant;
  // Deterministic grant ids: a repeated approval (or the break-glass event beside its approval) finds the grant.
  if (state.grant(grantId)) return;
  const target = state.entitlement(entitlementId);
  if (!target) return out.skip(`grant ${grantId}: entitlement ${entitlementId} is not in any catalogue seen`);
  if (!options.connectorIds.includes(target.connectorId)) return out.skip(`grant ${grantId}: connector ${target.connectorId} is not handled here`);
  const targetAccount = targetAccountOf(input.beneficiaryId, state.identity(input.beneficiaryId), target.connectorId);
  const ref = { grantId, requestId: input.requestId };
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
    ref,
  );
  sendProvision(out, { grantId, requestId: input.requestId, connectorId: target.connectorId, targetAccount, expiresAt }, target.externalRef, 1);
}

function sendProvision(
  out: Emitter,
  grant: { grantId: string; requestId: string; connectorId: string; targetAccount: string; expiresAt: string },
  entitlementRef: string,
  attempt: number,
): void {
  const idempotencyKey = idempotencyKeyOf(grant.grantId, 'provision');
  out.emit(GrantProvisioningRequested, { grantId: grant.grantId, connectorId: grant.connectorId, idempotencyKey, attempt }, grant);
  out.emit(
    ConnectorProvisionRequested,
    {
      commandId: commandIdOf(grant.grantId, 'provision', attempt),
      connectorId: grant.connectorId,
      grantId: grant.grantId,
      targetAccount: grant.targetAccount,
      entitlementRef,
      idempotencyKey,
      expiresAt: grant.expiresAt,
    },
    grant,
  );
}

function removeGrant(out: Emitter, state: ProvisioningView, grant: GrantState, reason: DeprovisionReason): void {
  // Already on its way out (or out): the first trigger's reason stands and no second command is sent.
  if (!REMOVABLE.has(grant.status)) return;
  const target = state.entitlement(grant.entitlementId);
  if (!target) {
    // Cannot even name what to revoke: never silent, the grant is irrevocable until someone acts.
    out.emit(GrantDeprovisioningRequested, deprovisioningData(grant, reason, 1, out), grant);
    failTerminally(out, grant, 'deprovision', { code: 'entitlement_unknown', reason: `entitlement ${grant.entitlementId} is in no catalogue`, retriable: false, attempts: 1 });
    return;
  }
  sendDeprovision(out, grant, target.externalRef, reason, 1);
}

function deprovisioningData(grant: GrantState, reason: DeprovisionReason, attempt: number, out: Emitter) {
  return {
    grantId: grant.grantId,
    connectorId: grant.connectorId,
    reason,
    idempotencyKey: idempotencyKeyOf(grant.grantId, 'deprovision'),
    attempt,
    triggeredBy: out.causeId,
  };
}

function sendDeprovision(out: Emitter, grant: GrantState, entitlementRef: string, reason: DeprovisionReason, attempt: number): void {
  const data = deprovisioningData(grant, reason, attempt, out);
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

function onFailure(out: Emitter, state: ProvisioningView, options: DecideOptions, failure: OperationFailedData): void {
  const grant = state.grant(failure.grantId);
  if (!grant || !isCurrent(grant, failure.operation, failure.commandId)) {
    out.skip(`stale or unknown failure ${failure.commandId}`);
    return;
  }
  const attempts = grant.attempts[failure.operation];
  const retriable = failure.errorClass === 'retriable';
  const target = state.entitlement(grant.entitlementId);
  const details = { code: failure.code, reason: failure.message, retriable, attempts };
  if (!retriable || attempts >= options.maxAttempts || !target) {
    failTerminally(out, grant, failure.operation, details);
    return;
  }
  out.emit(GrantProvisioningFailed, { grantId: grant.grantId, operation: failure.operation, ...details, terminal: false, nextAttemptAt: failure.failedAt }, grant);
  if (failure.operation === 'provision') sendProvision(out, grant, target.externalRef, attempts + 1);
  else sendDeprovision(out, grant, target.externalRef, grant.deprovisionReason ?? 'revocation', attempts + 1);
}

function failTerminally(
  out: Emitter,
  grant: GrantState,
  operation: GrantOperation,
  details: { code: string; reason: string; retriable: boolean; attempts: number },
): void {
  out.emit(GrantProvisioningFailed, { grantId: grant.grantId, operation, ...details, terminal: true }, grant);
  // The notifier alerts on a terminal failure (it alone writes the notifications topic).
}
