import { Command } from '@nestjs/cqrs';
import type { Actor, IdentityOffboardedData, IdentityUpsertedData, TicketRef } from '@grantline/contracts';
import type { ValidSubmission } from '../requests/request-body.schema';
import type { RequestStatusView } from '../status/request-status.projection';

// What the HTTP edge asks once it has authenticated, authorized and validated a call, dispatched on the CommandBus;
// requests/request-command-handlers.ts and identities/identity-command-handlers.ts publish each. The ids are the
// edge's, derived from the Idempotency-Key (IdempotentEndpoint), so a retried call writes the same event again. The
// actor is the caller's (actorOf), and what an event names as requester, withdrawer or new owner is that actor's id.

/** What was written: its event id is the one the caller named, answered back as `eventId`. */
export interface Recorded {
  readonly eventId: string;
}

/** A submission through the API. `submittedAt` is the instant the edge validated it against (an `endsAt` must be after it). */
export class SubmitAccessRequest extends Command<Recorded> {
  constructor(
    readonly requestId: string,
    readonly eventId: string,
    readonly requester: Actor,
    readonly submission: ValidSubmission,
    readonly submittedAt: Date,
  ) {
    super();
  }
}

/** The caller (authorized to) withdraws the request; refused with 409 when it is already closed. */
export class WithdrawRequest extends Command<Recorded> {
  constructor(
    readonly requestId: string,
    readonly eventId: string,
    readonly withdrawer: Actor,
    /** The status the caller was authorized against (the read model, with what this instance accepted on top): a closed one is refused. */
    readonly authorizedStatus: RequestStatusView['status'],
    readonly reason?: string,
  ) {
    super();
  }
}

/** A manual revocation of a grant; `requestId` is the request the grant came from, when the read model knows it. */
export class RequestRevocation extends Command<Recorded> {
  constructor(
    readonly grantId: string,
    readonly revocationId: string,
    readonly eventId: string,
    readonly requester: Actor,
    readonly revocation: { readonly reason: string; readonly ticket?: TicketRef },
    readonly requestId?: string,
  ) {
    super();
  }
}

/** An identity as its writer now has it (a whole record, or the record with a source's attributes changed). */
export class RecordIdentity extends Command<Recorded> {
  constructor(
    readonly identityId: string,
    readonly eventId: string,
    readonly writer: Actor,
    readonly data: IdentityUpsertedData,
  ) {
    super();
  }
}

export interface Offboarding extends Recorded {
  readonly ownedIdentityIds: readonly string[];
}

/** A leaver or a decommissioned machine identity; `effectiveAt` defaults to now. Lists the NHIs it owns. */
export class OffboardIdentity extends Command<Offboarding> {
  constructor(
    readonly identityId: string,
    readonly eventId: string,
    readonly writer: Actor,
    readonly offboarding: { readonly kind: IdentityOffboardedData['kind']; readonly reason: IdentityOffboardedData['reason']; readonly effectiveAt?: string },
  ) {
    super();
  }
}

/** Opens a transfer of a machine identity's ownership; only the proposed owner's acceptance changes the owner. */
export class ProposeOwnerTransfer extends Command<Recorded> {
  constructor(
    readonly identityId: string,
    readonly eventId: string,
    readonly proposer: Actor,
    readonly transfer: { readonly transferId: string; readonly currentOwnerId: string; readonly proposedOwnerId: string; readonly reason: string },
  ) {
    super();
  }
}

/**
 * The proposed owner (the actor) accepts. Refused with 409 when the transfer is no longer open, the machine identity
 * is no longer owned by `previousOwnerId`, or the guardrail refuses the new owner.
 */
export class AcceptOwnerTransfer extends Command<Recorded> {
  constructor(
    readonly identityId: string,
    readonly transferId: string,
    readonly eventId: string,
    readonly newOwner: Actor,
    readonly previousOwnerId: string,
  ) {
    super();
  }
}

/**
 * Someone an ownership transfer case is assigned to (the actor) takes ownership of the machine identity whose owner
 * left: `owner-changed` with reason `owner_offboarded`. Refused with 409 when the case is closed, the identity is no
 * longer owned by the leaver, or the guardrail refuses the new owner.
 */
export class TakeOwnershipCase extends Command<Recorded> {
  constructor(
    readonly identityId: string,
    readonly transferId: string,
    readonly eventId: string,
    readonly newOwner: Actor,
  ) {
    super();
  }
}
