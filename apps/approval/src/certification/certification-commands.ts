import { Command } from '@nestjs/cqrs';
import type { CampaignTrigger, CertificationDecision, Envelope } from '@grantline/contracts';
import type { LogPosition } from '@grantline/messaging';
import type { CampaignState } from './domain/certification.state';

// What the edges (HTTP, Kafka) ask of certification, dispatched on the CommandBus; certification-command-handlers.ts
// runs each on the certification decider. A refusal rejects with CertificationRefused (domain).

/** After the replay: arm the next run of every definition with a cadence that has none armed. */
export class ScheduleCampaigns extends Command<void> {}

/** Start a campaign of a definition (on demand, or a cadence run whose timer fired). */
export class StartCampaign extends Command<CampaignState> {
  constructor(
    readonly definitionId: string,
    readonly trigger: 'schedule' | 'on_demand',
    readonly options: { readonly campaignId?: string; readonly startedBy?: string; readonly triggerEventId?: string } = {},
  ) {
    super();
  }
}

/** A reviewer's answer (`authorizeOnly`: record a refused attempt before the body is read, decide nothing else). */
export class DecideItem extends Command<{ recorded: boolean; state: CampaignState }> {
  constructor(
    readonly campaignId: string,
    readonly itemId: string,
    readonly reviewerId: string,
    readonly decision: CertificationDecision,
    readonly extra: { readonly newExpiresAt?: string; readonly comment?: string } = {},
  ) {
    super();
  }
}

/** A `review_deadline` timer fired (for a campaign, or one escalated item of it). */
export class ExpireReviews extends Command<void> {
  constructor(
    readonly campaignId: string,
    readonly timerEventId: string,
    readonly firedAt: string,
  ) {
    super();
  }
}

/**
 * A fact certification reacts to or folds: an identity upsert (a mover), an owner change, a drift finding, an SoD
 * violation, a submitted request or a grant event. `position`: where the live consumer read it.
 */
export class ObserveFact extends Command<void> {
  constructor(
    readonly fact: Envelope,
    readonly position?: LogPosition,
  ) {
    super();
  }
}

export type { CampaignTrigger };
