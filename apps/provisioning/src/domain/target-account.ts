import type { Identity } from '@grantline/contracts';

/**
 * The beneficiary's account in a target system. The identity record names it per connector
 * (`attributes["account.<connectorId>"]`) or once for all (`attributes.account`); without either it is derived
 * from the identity id (lower-cased, anything but [a-z0-9_] becomes `_`), the convention local setups follow.
 */
export function targetAccountOf(beneficiaryId: string, identity: Identity | undefined, connectorId: string): string {
  const attributes = identity?.attributes ?? {};
  for (const key of [`account.${connectorId}`, 'account']) {
    const value = attributes[key];
    if (typeof value === 'string' && value.trim() !== '') return value.trim();
  }
  return beneficiaryId.toLowerCase().replace(/[^a-z0-9_]/g, '_');
}
