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
import { CAMPAIGN_EVENTS } from './domain/certification.evolve';
import type { CampaignState } from './domain/certification.state';
import { GRANT_FACT_EVENTS } from './domain/grant-facts';
import type { GrantFact } from './domain/grant-facts';
import type { PersonRecord, RequestRecord } from './domain/people';
import { CERTIFICATION_CONFIG } from './certification.config';
import type { CertificationConfig } from './certification.config';
import { ScheduleCampaigns } from './certification-commands';
import { CertificationLogState, campaignIdOf } from './certification-log-state';
import { certificationStateCodec } from './certification-log-state.codec';

/**
 * Certification campaigns as replayed state (ReplayedStateService, like the approval state beside it): campaigns
 * from the approvals topic, grants from the grants topic, people and requests from theirs. The command handlers
 * change it one campaign at a time (`exclusive`): decide, publish (acknowledged), then fold. A start restores the
 * newest snapshot first when the kit keeps them (`certificationStateCodec`, ADR 0037), and replays only the log after
 * it.
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
      snapshot: certificationStateCodec,
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
