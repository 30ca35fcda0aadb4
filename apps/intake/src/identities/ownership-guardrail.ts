import { ProblemException } from '@grantline/http-edge';
import type { ProblemType } from '@grantline/http-edge';
import type { IdentityDirectory } from '../status/request-status.store';

export const OWNER_TRANSFER_REFUSED: ProblemType = { slug: 'owner-transfer-refused', status: 409, title: 'The ownership transfer cannot take effect' };

export function refuseOwnerTransfer(detail: string): never {
  throw ProblemException.of(OWNER_TRANSFER_REFUSED, detail);
}

/**
 * The guardrail of every ownership change: a machine identity that is active is owned by an active person other
 * than its present owner (no NHI owns an NHI, no leaver becomes accountable).
 */
export async function assertMayOwn(
  directory: IdentityDirectory,
  identityId: string,
  nhi: { kind: string; status: string },
  currentOwnerId: string,
  newOwnerId: string,
): Promise<void> {
  if (nhi.kind === 'human') refuseOwnerTransfer(`${identityId} is a person: only machine identities have an owner of record`);
  if (nhi.status !== 'active') refuseOwnerTransfer(`${identityId} is ${nhi.status}`);
  if (newOwnerId === currentOwnerId) refuseOwnerTransfer(`${newOwnerId} already owns ${identityId}`);
  const candidate = await directory.standing(newOwnerId);
  if (candidate === undefined) refuseOwnerTransfer(`${newOwnerId} is not a known identity`);
  if (candidate?.kind !== 'human') refuseOwnerTransfer(`${newOwnerId} is not a person: a machine identity is owned by a person`);
  if (candidate?.status !== 'active') refuseOwnerTransfer(`${newOwnerId} is ${candidate?.status ?? 'unknown'}`);
}
