import { Inject, Injectable } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { IdentityUpserted, RequestSubmitted, topicOf } from '@grantline/contracts';
import type { CertificationItem, Envelope, EventRegistry } from '@grantline/contracts';
import { deterministicEventId } from '@grantline/messaging';
import type { MessageBus } from '@grantline/messaging';
import { EVENT_REGISTRY, MESSAGE_BUS, ReplayedStateService } from '@grantline/messaging-nest';
import { KeyedMutex, OnceUntilFailure } from '@grantline/service-kit';
import { APPROVAL_CONFIG } from '../approvals/approval.config';
import type { ApprovalConfig } from '../approvals/approval.config';
import { ApprovalStateService } from '../approvals/approval-state.service';
import { makeCertificationDecider, selfRelationToItem } from './domain/certification.decide';
import type { CertificationDecider } from './domain/certification.decide';
import { CAMPAIGN_EVENTS, evolveCampaign } from './domain/certification.evolve';
import { initialCampaignState } from './domain/certification.state';
import type { CampaignState } from './domain/certification.state';
import { GRANT_FACT_EVENTS, foldGrantFact } from './domain/grant-facts';
import type { GrantFact } from './domain/grant-facts';
import { foldPerson, foldRequest } from './domain/people';
import type { PersonRecord, RequestRecord } from './domain/people';
import { CERTIFICATION_CONFIG } from './certification.config';
import type { CertificationConfig } from './certification.config';
import { ScheduleCampaigns } from './certification-commands';

const CAMPAIGN_TYPES: ReadonlySet<string> = new Set(CAMPAIGN_EVENTS.map((def) => def.type));
const GRANT_TYPES: ReadonlySet<string> = new Set(GRANT_FACT_EVENTS.map((def) => def.type));

/** Every campaign event names its campaign. */
const campaignIdOf = (event: Envelope): string | undefined => {
  const id = (event.data as { campaignId?: unknown } | null)?.campaignId;
  return typeof id === 'string' ? id : undefined;
};

/** What certification folds from the log: the campaigns, the grants they are taken from, people (movers) and requests (lineage). */
export class CertificationLogState {
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

/**
 * Certification campaigns as replayed state (ReplayedStateService, like the approval state beside it): campaigns
 * from the approvals topic, grants from the grants topic, people and requests from theirs. The command handlers
 * change it one campaign at a time (`exclusive`): decide, publish (acknowledged), then fold.
 */
@Injectable()
export class CertificationStateService extends ReplayedStateService<CertificationLogState> {
  private readonly locks = new KeyedMutex();
  private readonly scheduled = new OnceUntilFailure<void>();

  constructor(
    @Inject(MESSAGE_BUS) bus: MessageBus,
    @Inject(EVENT_REGISTRY) registry: EventRegistry,
    @Inject(APPROVAL_CONFIG) private readonly approvalConfig: ApprovalConfig,
    @Inject(CERTIFICATION_CONFIG) readonly config: CertificationConfig,
    readonly approvals: ApprovalStateService,
    private readonly commands: CommandBus,
  ) {
    const state = new CertificationLogState();
    super(bus, registry, state, {
      events: [...CAMPAIGN_EVENTS, ...GRANT_FACT_EVENTS, IdentityUpserted, RequestSubmitted],
      name: 'certification state',
      logContext: 'approval',
      describe: () => ({ campaigns: state.campaigns.size, grants: state.grants.size }),
    });
  }

  /** Both replays done (the directory and requests are the approval state's), and the cadence runs armed once. */
  override whenLoaded(): Promise<void> {
    return this.scheduled.run(() => Promise.all([super.whenLoaded(), this.approvals.whenLoaded()]).then(() => this.commands.execute(new ScheduleCampaigns())));
  }

  exclusive<T>(campaignId: string, work: () => Promise<T>): Promise<T> {
    return this.locks.run(campaignId, work);
  }

  /** The decider over the directory as the approval state holds it now. */
  decider(): CertificationDecider {
    return makeCertificationDecider({
      directory: this.approvals.directory,
      policy: this.approvalConfig.policy,
      registry: this.registry,
      eventId: deterministicEventId,
      definitions: this.config.definitions,
      requesterOf: this.requesterOf,
    });
  }

  /** Why the identity may never review the item (its own access, its NHI, access it asked for), if so. */
  relationTo(identityId: string, item: CertificationItem, ownerOfRecordReview: boolean): ReturnType<typeof selfRelationToItem> {
    return selfRelationToItem(identityId, item, { directory: this.approvals.directory, requesterOf: this.requesterOf }, ownerOfRecordReview);
  }

  private readonly requesterOf = (requestId: string): string | undefined =>
    this.state.requests.get(requestId)?.requesterId ?? this.approvals.stateOf(requestId).request?.requesterId;

  /** Publishes decided events (acks=all), then folds them: the state moves only once Kafka has them. */
  async commit(campaignId: string, events: readonly Envelope[]): Promise<void> {
    if (events.length === 0) return;
    const byTopic = new Map<string, Envelope[]>();
    for (const event of events) {
      const topic = topicOf(this.registry.definitionOf(event.type), event.data);
      byTopic.set(topic, [...(byTopic.get(topic) ?? []), event]);
    }
    for (const [topic, batch] of byTopic) await this.bus.publisher.publish(topic, batch);
    for (const event of events) this.state.fold(campaignIdOf(event) ?? campaignId, event);
  }

  stateOf(campaignId: string): CampaignState {
    return this.state.stateOf(campaignId);
  }

  campaignOfItem(itemId: string): string | undefined {
    return this.state.itemIndex.get(itemId);
  }

  campaigns(): ReadonlyMap<string, CampaignState> {
    return this.state.campaigns;
  }

  grants(): ReadonlyMap<string, GrantFact> {
    return this.state.grants;
  }

  person(identityId: string): PersonRecord | undefined {
    return this.state.people.get(identityId);
  }

  request(requestId: string): RequestRecord | undefined {
    return this.state.requests.get(requestId);
  }
}
