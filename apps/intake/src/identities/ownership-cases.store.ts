import type { Collection, Connection } from 'mongoose';
import type { IdentityOwnershipTransferOpenedData } from '@grantline/contracts';

export type OwnershipCaseStatus = 'open' | 'accepted';

export interface OwnershipCaseView extends IdentityOwnershipTransferOpenedData {
  readonly status: OwnershipCaseStatus;
  /** Who took ownership, once accepted. */
  readonly newOwnerId?: string;
}

interface OwnershipCaseDocument extends OwnershipCaseView {
  _id: string;
}

export const OWNERSHIP_CASES_COLLECTION = 'intake_ownership_cases_v1';

/**
 * Ownership transfer cases opened because an NHI's owner left, projected from the intake's own identity events (a
 * dropped database is rebuilt by replay): open until someone it is assigned to accepts; any owner change closes it.
 */
export class OwnershipCases {
  private readonly collection: Collection<OwnershipCaseDocument>;

  constructor(connection: Connection) {
    this.collection = connection.collection<OwnershipCaseDocument>(OWNERSHIP_CASES_COLLECTION);
  }

  async get(transferId: string): Promise<OwnershipCaseView | undefined> {
    const document = await this.collection.findOne({ _id: transferId });
    if (!document) return undefined;
    const { _id: _ignored, ...view } = document;
    return view;
  }

  /** Idempotent: a case seen again keeps its status. */
  async opened(data: IdentityOwnershipTransferOpenedData): Promise<void> {
    if (await this.collection.findOne({ _id: data.transferId })) return;
    try {
      await this.collection.insertOne({ _id: data.transferId, ...data, status: 'open' });
    } catch (error) {
      if ((error as { code?: unknown }).code !== 11000) throw error;
    }
  }

  /** The NHI has an owner again (through this case or any other governed change): its open cases are done. */
  async ownerChanged(identityId: string, newOwnerId: string): Promise<void> {
    await this.collection.updateMany({ identityId, status: 'open' }, { $set: { status: 'accepted', newOwnerId } });
  }
}
