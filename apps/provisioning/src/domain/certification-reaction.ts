import { ApprovalCertificationDecided, ApprovalCertificationLapsed, GrantExpiryShortened, isEvent } from '@grantline/contracts';
import type { Envelope, GrantExpiryShortenedData } from '@grantline/contracts';
import type { GrantState } from './grant.state';

/** The certification outcomes provisioning carries out (the approval service decides them). */
export const CERTIFICATION_OUTCOMES = [ApprovalCertificationDecided, ApprovalCertificationLapsed] as const;

export type CertificationEffect =
  { readonly kind: 'revoke'; readonly grantId: string } | { readonly kind: 'shorten'; readonly grantId: string; readonly data: GrantExpiryShortenedData };

/**
 * What a certification outcome does to its grant: a revoke (answered or lapsed) removes it by the normal path, with
 * the reason `revocation` (the grant schemas are frozen; the causation names the certification); a reduce moves a
 * live grant's expiry earlier (never later), which the scheduler follows. Anything else does nothing.
 */
export const certificationEffectOf = (command: Envelope, grant: GrantState | undefined): CertificationEffect | undefined => {
  if (!grant) return undefined;
  if (isEvent(command, ApprovalCertificationLapsed)) return command.data.action === 'revoke' ? { kind: 'revoke', grantId: grant.grantId } : undefined;
  if (!isEvent(command, ApprovalCertificationDecided)) return undefined;
  const { decision, newExpiresAt } = command.data;
  if (decision === 'revoke') return { kind: 'revoke', grantId: grant.grantId };
  if (decision !== 'reduce' || newExpiresAt === undefined || grant.status !== 'active') return undefined;
  if (Date.parse(newExpiresAt) >= Date.parse(grant.expiresAt)) return undefined;
  return {
    kind: 'shorten',
    grantId: grant.grantId,
    data: { grantId: grant.grantId, previousExpiresAt: grant.expiresAt, expiresAt: newExpiresAt, reason: 'certification_reduced', triggeredBy: command.id },
  };
};

/** The grant after its expiry was shortened (an earlier time only: a replayed older shortening never extends it). */
export const withShortenedExpiry = (grant: GrantState, event: Envelope): GrantState =>
  isEvent(event, GrantExpiryShortened) && Date.parse(event.data.expiresAt) < Date.parse(grant.expiresAt)
    ? { ...grant, expiresAt: event.data.expiresAt }
    : grant;

/** The grant id a certification outcome names. */
export const grantOfOutcome = (command: Envelope): string | undefined =>
  isEvent(command, ApprovalCertificationDecided) || isEvent(command, ApprovalCertificationLapsed) ? command.data.grantId : undefined;
