import type { Collection, Connection } from 'mongoose';
import type { IdentityOwnerTransferProposedData } from '@grantline/contracts';

export type OwnerTransferStatus = 'proposed' | 'accepted' | 'superseded';

export interface OwnerTransferView extends IdentityOwnerTransferProposedData {
  readonly status: OwnerTransferStatus;
}

interface OwnerTransferDocument extends OwnerTransferView {
  _id: string;
}

export const OWNER_TRANSFERS_COLLECTION = 'intake_owner_transfers_v1';

/**
 * Proposed transfers of an NHI's ownership, projected from the intake's own identity events (so a dropped database
 * is rebuilt by replay): a proposal waits for its proposed owner; an owner change closes it.
 */
export class OwnerTransfers {
  private readonly collection: Collection<OwnerTransferDocument>;

  constructor(connection: Connection) {
    this.collection = connection.collection<OwnerTransferDocument>(OWNER_TRANSFERS_COLLECTION);
  }

  async get(transferId: string): Promise<OwnerTransferView | undefined> {
    const document = await this.collection.findOne({ _id: transferId });
    if (!document) return undefined;
    const { _id: _ignored, ...view } = document;
    return view;
  }

  /** Idempotent: a proposal seen again (the HTTP path, then the consumer) keeps its status. */
  async proposed(data: IdentityOwnerTransferProposedData): Promise<void> {
    const existing = await this.collection.findOne({ _id: data.transferId });
    if (existing) return;
    try {
      await this.collection.insertOne({ _id: data.transferId, ...data, status: 'proposed' });
    } catch (error) {
      if ((error as { code?: unknown }).code !== 11000) throw error;
    }
  }

  /** The NHI's owner changed: the accepted proposal is done, any other open one for it no longer applies. */
  async ownerChanged(identityId: string, newOwnerId: string): Promise<void> {
    const open = await this.collection.find({ identityId, status: 'proposed' }).toArray();
    for (const transfer of open) {
      await this.collection.updateOne({ _id: transfer._id }, { $set: { status: transfer.proposedOwnerId === newOwnerId ? 'accepted' : 'superseded' } });
    }
  }
}
