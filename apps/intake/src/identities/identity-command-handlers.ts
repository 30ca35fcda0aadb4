import { Inject, Logger } from '@nestjs/common';
import { CommandHandler } from '@nestjs/cqrs';
import type { ICommandHandler } from '@nestjs/cqrs';
import { IdentityOffboarded, IdentityOwnerChanged, IdentityOwnerTransferProposed, IdentityUpserted } from '@grantline/contracts';
import type { Actor, Envelope, EventDefinition, IdentityOffboardedData } from '@grantline/contracts';
import type { Clock } from '@grantline/decider';
import { CLOCK } from '@grantline/service-kit';
import { AcceptOwnerTransfer, OffboardIdentity, ProposeOwnerTransfer, RecordIdentity, TakeOwnershipCase } from '../commands/intake-commands';
import type { Offboarding, Recorded } from '../commands/intake-commands';
import { IntakePublisher } from '../publishing/intake-publisher';
import { IdentityDirectory } from '../status/request-status.store';
import { OwnershipCases } from './ownership-cases.store';
import { OwnerTransfers } from './owner-transfers.store';
import { assertMayOwn, refuseOwnerTransfer } from './ownership-guardrail';

const logger = new Logger('identities');

/** An identity fact is keyed by the identity it is about. */
function publishFact<TData>(
  publisher: IntakePublisher,
  def: EventDefinition<string, TData>,
  fact: { data: TData; identityId: string; actor: Actor; id: string; time: string },
): Promise<Envelope<TData>> {
  return publisher.publish({ def, data: fact.data, id: fact.id, subject: fact.identityId, correlationId: fact.identityId, actor: fact.actor, time: fact.time });
}

/** Once the event is acknowledged the answer is 202 whatever happens here: the consumer applies the same event. */
async function afterPublish(eventId: string, work: () => Promise<void>): Promise<void> {
  try {
    await work();
  } catch (error) {
    logger.warn(`identity directory update deferred for ${eventId}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

@CommandHandler(RecordIdentity)
export class RecordIdentityHandler implements ICommandHandler<RecordIdentity> {
  constructor(
    private readonly publisher: IntakePublisher,
    private readonly directory: IdentityDirectory,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async execute({ identityId, eventId, writer, data }: RecordIdentity): Promise<Recorded> {
    const envelope = await publishFact(this.publisher, IdentityUpserted, {
      data,
      identityId,
      actor: writer,
      id: eventId,
      time: this.clock.now().toISOString(),
    });
    await afterPublish(envelope.id, () => this.directory.remember(data.identity));
    return { eventId: envelope.id };
  }
}

@CommandHandler(OffboardIdentity)
export class OffboardIdentityHandler implements ICommandHandler<OffboardIdentity> {
  constructor(
    private readonly publisher: IntakePublisher,
    private readonly directory: IdentityDirectory,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async execute({ identityId, eventId, writer, offboarding }: OffboardIdentity): Promise<Offboarding> {
    const now = this.clock.now().toISOString();
    const data: IdentityOffboardedData = {
      identityId,
      kind: offboarding.kind,
      effectiveAt: offboarding.effectiveAt ?? now,
      reason: offboarding.reason,
      ownedIdentityIds: await this.directory.ownedBy(identityId),
    };
    const envelope = await publishFact(this.publisher, IdentityOffboarded, { data, identityId, actor: writer, id: eventId, time: now });
    await afterPublish(envelope.id, () => this.directory.markOffboarded(identityId));
    return { eventId: envelope.id, ownedIdentityIds: data.ownedIdentityIds };
  }
}

@CommandHandler(ProposeOwnerTransfer)
export class ProposeOwnerTransferHandler implements ICommandHandler<ProposeOwnerTransfer> {
  constructor(
    private readonly publisher: IntakePublisher,
    private readonly transfers: OwnerTransfers,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async execute({ identityId, eventId, proposer, transfer }: ProposeOwnerTransfer): Promise<Recorded> {
    const { transferId, currentOwnerId, proposedOwnerId, reason } = transfer;
    const data = { transferId, identityId, currentOwnerId, proposedOwnerId, proposedBy: proposer.id, reason, proposedAt: this.clock.now().toISOString() };
    const envelope = await publishFact(this.publisher, IdentityOwnerTransferProposed, {
      data,
      identityId,
      actor: proposer,
      id: eventId,
      time: data.proposedAt,
    });
    await afterPublish(envelope.id, () => this.transfers.proposed(data));
    return { eventId: envelope.id };
  }
}

@CommandHandler(AcceptOwnerTransfer)
export class AcceptOwnerTransferHandler implements ICommandHandler<AcceptOwnerTransfer> {
  constructor(
    readonly publisher: IntakePublisher,
    readonly directory: IdentityDirectory,
    readonly transfers: OwnerTransfers,
    @Inject(CLOCK) readonly clock: Clock,
  ) {}

  async execute({ identityId, transferId, eventId, newOwner, previousOwnerId }: AcceptOwnerTransfer): Promise<Recorded> {
    const current = await this.transfers.get(transferId);
    if (current?.status !== 'proposed') refuseOwnerTransfer(`Transfer ${transferId} is ${current?.status ?? 'unknown'}`);
    return recordNewOwner(this, { identityId, previousOwnerId, newOwner, eventId, reason: 'transfer', stale: 'the proposal is stale' });
  }
}

@CommandHandler(TakeOwnershipCase)
export class TakeOwnershipCaseHandler implements ICommandHandler<TakeOwnershipCase> {
  constructor(
    readonly publisher: IntakePublisher,
    readonly directory: IdentityDirectory,
    readonly transfers: OwnerTransfers,
    private readonly cases: OwnershipCases,
    @Inject(CLOCK) readonly clock: Clock,
  ) {}

  async execute({ identityId, transferId, eventId, newOwner }: TakeOwnershipCase): Promise<Recorded> {
    const ownershipCase = await this.cases.get(transferId);
    if (ownershipCase?.status !== 'open') refuseOwnerTransfer(`Ownership transfer ${transferId} is ${ownershipCase?.status ?? 'unknown'}`);
    const { previousOwnerId } = ownershipCase;
    return recordNewOwner(this, { identityId, previousOwnerId, newOwner, eventId, reason: 'owner_offboarded', stale: 'the case is stale' }, () =>
      this.cases.ownerChanged(identityId, newOwner.id),
    );
  }
}

interface OwnerChangeDeps {
  readonly publisher: IntakePublisher;
  readonly directory: IdentityDirectory;
  readonly transfers: OwnerTransfers;
  readonly clock: Clock;
}

interface NewOwner {
  readonly identityId: string;
  readonly previousOwnerId: string;
  readonly newOwner: AcceptOwnerTransfer['newOwner'];
  readonly eventId: string;
  readonly reason: 'transfer' | 'owner_offboarded';
  /** Why the answer is a refusal when the NHI changed owner meanwhile. */
  readonly stale: string;
}

/**
 * The one way an NHI's owner of record changes: still owned by whom the proposal or case says, the new owner may
 * own it, then `owner-changed` is published and the intake's own views follow.
 */
async function recordNewOwner(deps: OwnerChangeDeps, change: NewOwner, alsoAfterPublish?: () => Promise<void>): Promise<Recorded> {
  const { identityId, previousOwnerId, newOwner } = change;
  const nhi = await deps.directory.standing(identityId);
  const owner = (await deps.directory.responsibleFor(identityId)).ownerId;
  if (nhi === undefined || owner !== previousOwnerId) refuseOwnerTransfer(`${identityId} is no longer owned by ${previousOwnerId}: ${change.stale}`);
  await assertMayOwn(deps.directory, identityId, nhi, previousOwnerId, newOwner.id);
  const data = { identityId, previousOwnerId, newOwnerId: newOwner.id, reason: change.reason, changedBy: newOwner.id };
  const envelope = await publishFact(deps.publisher, IdentityOwnerChanged, {
    data,
    identityId,
    actor: newOwner,
    id: change.eventId,
    time: deps.clock.now().toISOString(),
  });
  await afterPublish(envelope.id, async () => {
    await deps.directory.changeOwner(identityId, newOwner.id);
    await deps.transfers.ownerChanged(identityId, newOwner.id);
    await alsoAfterPublish?.();
  });
  return { eventId: envelope.id };
}

export const IDENTITY_COMMAND_HANDLERS = [
  RecordIdentityHandler,
  OffboardIdentityHandler,
  ProposeOwnerTransferHandler,
  AcceptOwnerTransferHandler,
  TakeOwnershipCaseHandler,
];
