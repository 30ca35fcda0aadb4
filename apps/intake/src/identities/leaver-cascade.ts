import {
  IdentityCredentialsRotationFlagged,
  IdentityOwnershipTransferOpened,
  RequestWithdrawn,
  isEvent,
  isoDurationToMillis,
  sha256Hex,
} from '@grantline/contracts';
import type { Envelope, EventRegistry, IdentityOffboardedData, OrphanedGrantsDisposition } from '@grantline/contracts';
import { EventFactory } from '@grantline/decider';
import type { Decider, EventIdOf } from '@grantline/decider';

/**
 * The intake's ownership policy for machine identities whose owner left (docs/adr/0022): who takes the case when the
 * leaver has no manager, how long they have, and what happens to the NHI's grants meanwhile. Recorded on each case it
 * opens, so provisioning, the scheduler and the audit act on the choice made then, whatever the setting is later.
 */
export interface OwnershipPolicy {
  /** ISO-8601 duration from the offboarding to the case's deadline (e.g. P14D). */
  readonly transferWithin: string;
  /** The Grantline role whose holders may take the case when the leaver has no active manager. */
  readonly fallbackRole: string;
  readonly grantsDisposition: OrphanedGrantsDisposition;
}

export const DEFAULT_OWNERSHIP_POLICY: OwnershipPolicy = { transferWithin: 'P14D', fallbackRole: 'security', grantsDisposition: 'revoke_now' };

/** A request still open (submitted or awaiting approval) for a beneficiary, as the intake's read model has it. */
export interface OpenRequest {
  readonly requestId: string;
  readonly subjectId: string;
}

/**
 * What the intake knows when an offboarding reaches it, read from its own stores (the identity directory, the request
 * read model): the leaver's manager and whether they are still here, and the open requests of the leaver and of the
 * machine identities it owned.
 */
export interface LeaverState {
  readonly managerId?: string;
  readonly managerActive: boolean;
  readonly openRequests: readonly OpenRequest[];
}

export const emptyLeaverState = (): LeaverState => ({ managerActive: false, openRequests: [] });

export const LEAVER_WITHDRAWAL_REASON = 'beneficiary offboarded (leaver)';
export const frozenWithdrawalReason = (nhiId: string, ownerId: string): string =>
  `machine identity ${nhiId} is frozen: its owner ${ownerId} was offboarded and nobody has accepted ownership yet`;

/** One case per (offboarding, machine identity): a redelivered offboarding opens the same case, never a second one. */
export const ownershipTransferIdOf = (offboardingEventId: string, identityId: string): string =>
  `otr-${sha256Hex(new TextEncoder().encode(`${offboardingEventId}\u0000${identityId}`)).slice(0, 32)}`;

export interface LeaverCascadeContext {
  readonly registry: EventRegistry;
  readonly eventId: EventIdOf;
  readonly policy: OwnershipPolicy;
}

const plus = (iso: string, duration: string): string => {
  const ms = isoDurationToMillis(duration);
  if (ms === undefined) throw new Error(`invalid ownership transfer duration ${duration}`);
  return new Date(Date.parse(iso) + ms).toISOString();
};

/**
 * The intake's side of a leaver (or a decommissioned identity): the command is the `iga.identity.offboarded` event,
 * read back from the log by the intake's consumer (so the SCIM and HTTP paths cascade alike, and a redelivery derives
 * the same ids). It decides
 * - `iga.request.withdrawn` for every request still open for the identity (reason: beneficiary offboarded), and for
 *   every request still open for a machine identity it owned (reason: that NHI is frozen);
 * - per owned machine identity, an ownership transfer case assigned to the leaver's manager (or the fallback role),
 *   due after `transferWithin`, and a flag that the NHI's credentials are to be rotated.
 * Grants are provisioning's: it revokes the leaver's own on the offboarding, the NHIs' per the case's disposition.
 */
export function makeLeaverCascadeDecider(context: LeaverCascadeContext): Decider<Envelope<IdentityOffboardedData>, Envelope, LeaverState> {
  const events = new EventFactory(context.registry, { source: 'grantline/intake', actor: { kind: 'service', id: 'intake' } }, context.eventId);
  return {
    initialState: emptyLeaverState,
    // A withdrawal closes its request; nothing else a cascade writes changes what the next offboarding reads.
    evolve: (state, event) =>
      isEvent(event, RequestWithdrawn) ? { ...state, openRequests: state.openRequests.filter((r) => r.requestId !== event.data.requestId) } : state,
    decide: (offboarding, state) => {
      const { identityId: leaverId, ownedIdentityIds } = offboarding.data;
      const owned = new Set(ownedIdentityIds);
      const decided: Envelope[] = [];
      for (const request of [...state.openRequests].sort((a, b) => a.requestId.localeCompare(b.requestId))) {
        const reason =
          request.subjectId === leaverId
            ? LEAVER_WITHDRAWAL_REASON
            : owned.has(request.subjectId)
              ? frozenWithdrawalReason(request.subjectId, leaverId)
              : undefined;
        if (reason === undefined) continue;
        decided.push(
          events.derive(
            RequestWithdrawn,
            { requestId: request.requestId, withdrawnBy: 'intake', reason },
            {
              idParts: ['intake', 'leaver-withdrawal', offboarding.id, request.requestId],
              cause: offboarding,
              subject: request.requestId,
              correlationId: request.requestId,
            },
          ),
        );
      }
      const manager = state.managerId !== undefined && state.managerActive && state.managerId !== leaverId ? state.managerId : undefined;
      const dueAt = plus(offboarding.data.effectiveAt, context.policy.transferWithin);
      for (const nhiId of [...owned].sort()) {
        const transferId = ownershipTransferIdOf(offboarding.id, nhiId);
        const about = { cause: offboarding, subject: nhiId, correlationId: nhiId };
        decided.push(
          events.derive(
            IdentityOwnershipTransferOpened,
            {
              transferId,
              identityId: nhiId,
              previousOwnerId: leaverId,
              assigneeIds: manager === undefined ? [] : [manager],
              ...(manager === undefined ? { assigneeRole: context.policy.fallbackRole } : {}),
              dueAt,
              openedAt: offboarding.time,
              reason: 'owner_offboarded',
              grantsDisposition: context.policy.grantsDisposition,
            },
            { idParts: ['intake', 'ownership-transfer-opened', transferId], ...about },
          ),
          events.derive(
            IdentityCredentialsRotationFlagged,
            { identityId: nhiId, reason: 'owner_offboarded', transferId, flaggedAt: offboarding.time },
            { idParts: ['intake', 'credentials-rotation-flagged', transferId], ...about },
          ),
        );
      }
      return decided;
    },
  };
}
