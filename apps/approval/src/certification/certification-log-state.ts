import { IdentityUpserted, RequestSubmitted } from '@grantline/contracts';
import type { Envelope } from '@grantline/contracts';
import type { FoldedState } from '@grantline/messaging-nest';
import { CAMPAIGN_EVENTS, evolveCampaign } from './domain/certification.evolve';
import { initialCampaignState } from './domain/certification.state';
import type { CampaignState } from './domain/certification.state';
import { GRANT_FACT_EVENTS, foldGrantFact } from './domain/grant-facts';
import type { GrantFact } from './domain/grant-facts';
import { foldPerson, foldRequest } from './domain/people';
import type { PersonRecord, RequestRecord } from './domain/people';

const CAMPAIGN_TYPES: ReadonlySet<string> = new Set(CAMPAIGN_EVENTS.map((def) => def.type));
const GRANT_TYPES: ReadonlySet<string> = new Set(GRANT_FACT_EVENTS.map((def) => def.type));

/** Every campaign event names its campaign. */
export const campaignIdOf = (event: Envelope): string | undefined => {
  const id = (event.data as { campaignId?: unknown } | null)?.campaignId;
  return typeof id === 'string' ? id : undefined;
};

/** What certification folds from the log: the campaigns, the grants they are taken from, people (movers) and requests (lineage). */
export class CertificationLogState implements FoldedState {
  readonly campaigns = new Map<string, CampaignState>();
  readonly grants = new Map<string, GrantFact>();
  readonly people = new Map<string, PersonRecord>();
  readonly requests = new Map<string, RequestRecord>();
  /** Review item (and escalated item) id → campaign id. */
  readonly itemIndex = new Map<string, string>();

  stateOf(campaignId: string): CampaignState {
    return this.campaigns.get(campaignId) ?? initialCampaignState();
  }

  apply(event: Envelope): void {
    if (CAMPAIGN_TYPES.has(event.type)) {
      const campaignId = campaignIdOf(event);
      if (campaignId !== undefined) this.fold(campaignId, event);
    } else if (GRANT_TYPES.has(event.type)) foldGrantFact(this.grants, event);
    else if (event.type === IdentityUpserted.type) foldPerson(this.people, event);
    else if (event.type === RequestSubmitted.type) foldRequest(this.requests, event);
  }

  fold(campaignId: string, event: Envelope): void {
    const next = evolveCampaign(this.stateOf(campaignId), event);
    this.campaigns.set(campaignId, next);
    for (const itemId of next.items.keys()) this.itemIndex.set(itemId, campaignId);
  }
}
