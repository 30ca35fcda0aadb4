import { ApprovalCertificationBlocked, isEvent } from '@grantline/contracts';
import type { CampaignTrigger, CertificationDecision, Envelope } from '@grantline/contracts';
import type { CampaignDefinition } from './campaign-definition';
import type { GrantFact } from './grant-facts';

// Every command names its campaign: the campaign id is the aggregate's, outside the state.

/** Arm the next run of a definition with a cadence (the scheduler's `campaign_due` timer starts it). */
export interface ScheduleCampaignCommand {
  readonly kind: 'schedule';
  readonly campaignId: string;
  readonly definition: CampaignDefinition;
  readonly dueAt: string;
  readonly at: string;
}

/**
 * Start a campaign: `candidates` are the grants it may take (every live grant for a cadence or on-demand run, the
 * affected ones for a micro-certification); the definition's scope picks among them.
 */
export interface StartCampaignCommand {
  readonly kind: 'start';
  readonly campaignId: string;
  readonly definition: CampaignDefinition;
  readonly trigger: CampaignTrigger;
  readonly triggerEventId?: string;
  readonly startedBy?: string;
  /** The reviewer micro-certifications go to, when the trigger names one (the new manager, the new owner). */
  readonly reviewerOverride?: string;
  readonly candidates: readonly GrantFact[];
  readonly at: string;
}

/** A reviewer's answer; `reviewerId` is the authenticated principal. */
export interface DecideItemCommand {
  readonly kind: 'decide_item';
  readonly campaignId: string;
  readonly itemId: string;
  readonly reviewerId: string;
  readonly decision: CertificationDecision;
  readonly newExpiresAt?: string;
  readonly comment?: string;
  readonly at: string;
}

/** A `review_deadline` timer fired for the campaign (its first deadline) or one escalated item. */
export interface ReviewDeadlineCommand {
  readonly kind: 'deadline';
  readonly campaignId: string;
  readonly timerEventId: string;
  readonly firedAt: string;
}

export type CertificationCommand = ScheduleCampaignCommand | StartCampaignCommand | DecideItemCommand | ReviewDeadlineCommand;

export type CertificationRejection = 'unknown_item' | 'self_review' | 'not_a_reviewer' | 'item_closed' | 'invalid_expiry' | 'unknown_campaign';

/** A refusal of the rules; a refused review by someone with a relation to the item is recorded first (CertificationBlocked). */
export class CertificationRefused extends Error {
  constructor(
    readonly rejection: CertificationRejection,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'CertificationRefused';
  }
}

/** The refusal a recorded blocked attempt stands for, when the decided events hold one. */
export const certificationRefusalIn = (events: readonly Envelope[]): CertificationRefused | undefined => {
  for (const event of events) {
    if (!isEvent(event, ApprovalCertificationBlocked)) continue;
    const { relation, reason } = event.data;
    return new CertificationRefused(relation === 'not_a_reviewer' ? 'not_a_reviewer' : 'self_review', reason);
  }
  return undefined;
};
