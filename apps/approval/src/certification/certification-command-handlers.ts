import { Inject, Logger } from '@nestjs/common';
import { CommandHandler } from '@nestjs/cqrs';
import type { ICommandHandler } from '@nestjs/cqrs';
import { GrantDriftDetected, IdentityOwnerChanged, IdentityUpserted, PolicySodViolationDetected, TimerFired, isEvent } from '@grantline/contracts';
import type { CampaignTrigger, Envelope } from '@grantline/contracts';
import type { Clock } from '@grantline/decider';
import { CLOCK } from '@grantline/service-kit';
import type { CampaignDefinition } from './domain/campaign-definition';
import { certificationRefusalIn, CertificationRefused } from './domain/certification.commands';
import type { CertificationCommand } from './domain/certification.commands';
import { plus, scheduledCampaignIdOf, triggeredCampaignIdOf } from './domain/certification.decide';
import type { CampaignState } from './domain/certification.state';
import { GRANT_FACT_EVENTS, isLive } from './domain/grant-facts';
import type { GrantFact } from './domain/grant-facts';
import { DecideItem, ExpireReviews, ObserveFact, ScheduleCampaigns, StartCampaign } from './certification-commands';
import { CertificationStateService } from './certification-state.service';

/** The runtime's one step, under the campaign's lock: decide on its current state, publish, fold; a recorded refusal still refuses. */
const decideOn = async (certification: CertificationStateService, command: CertificationCommand): Promise<readonly Envelope[]> => {
  const events = certification.decider().decide(command, certification.stateOf(command.campaignId));
  await certification.commit(command.campaignId, events);
  const refused = certificationRefusalIn(events);
  if (refused) throw refused;
  return events;
};

@CommandHandler(ScheduleCampaigns)
export class ScheduleCampaignsHandler implements ICommandHandler<ScheduleCampaigns> {
  private readonly logger = new Logger('approval');

  constructor(
    private readonly certification: CertificationStateService,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /** A definition with a cadence and no run armed in the future gets one, a cadence from now. */
  async execute(): Promise<void> {
    const now = this.clock.now().toISOString();
    for (const definition of this.certification.config.definitions.values()) {
      if (!definition.triggers.includes('schedule') || definition.cadence === undefined) continue;
      const armed = [...this.certification.campaigns().values()].some(
        (state) => state.scheduled?.definitionId === definition.definitionId && state.campaign === undefined,
      );
      if (armed) continue;
      const dueAt = plus(now, definition.cadence);
      const campaignId = scheduledCampaignIdOf(definition.definitionId, dueAt);
      try {
        await this.certification.exclusive(campaignId, () => decideOn(this.certification, { kind: 'schedule', campaignId, definition, dueAt, at: now }));
        this.logger.log({ msg: 'campaign scheduled', definitionId: definition.definitionId, campaignId, dueAt });
      } catch (error) {
        // Never a reason to stop serving: the next start arms it (the definition still has no run armed).
        this.logger.error({ msg: 'could not schedule the next campaign run', definitionId: definition.definitionId, error: String(error) });
      }
    }
  }
}

@CommandHandler(StartCampaign)
export class StartCampaignHandler implements ICommandHandler<StartCampaign> {
  constructor(
    private readonly certification: CertificationStateService,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async execute({ definitionId, trigger, options }: StartCampaign): Promise<CampaignState> {
    const definition = this.certification.config.definitions.get(definitionId);
    if (!definition) throw new CertificationRefused('unknown_campaign', `no campaign definition ${definitionId}`, 'definitionId');
    // The snapshot holds every grant event published before the start was asked for (they travel on other partitions).
    const mark = this.certification.freshnessMark();
    await this.certification.ensureFresh(mark, this.certification.topicsOf(GRANT_FACT_EVENTS));
    const at = this.clock.now().toISOString();
    const campaignId = options.campaignId ?? `${definitionId}:on-demand:${at}`;
    return this.certification.exclusive(campaignId, async () => {
      await decideOn(this.certification, {
        kind: 'start',
        campaignId,
        definition,
        trigger,
        ...(options.startedBy !== undefined ? { startedBy: options.startedBy } : {}),
        ...(options.triggerEventId !== undefined ? { triggerEventId: options.triggerEventId } : {}),
        candidates: [...this.certification.grants().values()],
        at,
      });
      return this.certification.stateOf(campaignId);
    });
  }
}

@CommandHandler(DecideItem)
export class DecideItemHandler implements ICommandHandler<DecideItem> {
  constructor(
    private readonly certification: CertificationStateService,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  execute({ campaignId, itemId, reviewerId, decision, extra }: DecideItem): Promise<{ recorded: boolean; state: CampaignState }> {
    const at = this.clock.now().toISOString();
    return this.certification.exclusive(campaignId, async () => {
      const events = await decideOn(this.certification, {
        kind: 'decide_item',
        campaignId,
        itemId,
        reviewerId,
        decision,
        ...(extra.newExpiresAt !== undefined ? { newExpiresAt: extra.newExpiresAt } : {}),
        ...(extra.comment !== undefined ? { comment: extra.comment } : {}),
        at,
      });
      return { recorded: events.length > 0, state: this.certification.stateOf(campaignId) };
    });
  }
}

@CommandHandler(ExpireReviews)
export class ExpireReviewsHandler implements ICommandHandler<ExpireReviews> {
  constructor(private readonly certification: CertificationStateService) {}

  async execute({ campaignId, timerEventId, firedAt }: ExpireReviews): Promise<void> {
    await this.certification.exclusive(campaignId, () => decideOn(this.certification, { kind: 'deadline', campaignId, timerEventId, firedAt }));
  }
}

/** What a fact asks to review, if anything: the affected grants are picked once the grants are fresh. */
interface Micro {
  readonly trigger: Extract<CampaignTrigger, 'mover' | 'owner_change' | 'drift' | 'sod_violation' | 'grant_recertification'>;
  /** What makes the campaign one per trigger: the event id, the timer id, or the SoD violation id (the same in every scan). */
  readonly triggerKey: string;
  /** The instant the grants must be live at. */
  readonly at: string;
  readonly affects: (grant: GrantFact) => boolean;
  readonly reviewerOverride?: string;
}

@CommandHandler(ObserveFact)
export class ObserveFactHandler implements ICommandHandler<ObserveFact> {
  private readonly logger = new Logger('approval');

  constructor(private readonly certification: CertificationStateService) {}

  /** Folds the fact, then opens the micro-certifications it asks for (deterministic ids: a fact seen twice opens one). */
  async execute({ fact, position }: ObserveFact): Promise<void> {
    const mark = this.certification.freshnessMark();
    if (position) this.certification.applyLive(fact, position);
    else this.certification.state.apply(fact);
    const micro = this.microOf(fact);
    if (!micro) return;
    const definitions = [...this.certification.config.definitions.values()].filter((definition) => definition.triggers.includes(micro.trigger));
    if (definitions.length === 0) return;
    // The affected grants are every one published before the trigger was received (they travel on other partitions).
    await this.certification.ensureFresh(mark, this.certification.topicsOf(GRANT_FACT_EVENTS));
    const candidates = [...this.certification.grants().values()].filter((grant) => isLive(grant, micro.at) && micro.affects(grant));
    if (candidates.length === 0) return;
    for (const definition of definitions) await this.open(definition, micro, candidates, fact);
  }

  private async open(definition: CampaignDefinition, micro: Micro, candidates: readonly GrantFact[], fact: Envelope): Promise<void> {
    const campaignId = triggeredCampaignIdOf(definition.definitionId, micro.triggerKey);
    await this.certification.exclusive(campaignId, () =>
      decideOn(this.certification, {
        kind: 'start',
        campaignId,
        definition,
        trigger: micro.trigger,
        triggerEventId: fact.id,
        ...(micro.reviewerOverride !== undefined ? { reviewerOverride: micro.reviewerOverride } : {}),
        candidates,
        // The fact's own time: a redelivery decides the same campaign, to the byte.
        at: micro.at,
      }),
    );
    this.logger.log({ msg: 'micro-certification opened', campaignId, trigger: micro.trigger, cause: fact.id });
  }

  private microOf(fact: Envelope): Micro | undefined {
    if (isEvent(fact, IdentityUpserted)) {
      const { identity } = fact.data;
      // Only the upsert that moved the person (a new manager or department), live or replayed before.
      if (identity.kind !== 'human' || this.certification.person(identity.identityId)?.lastMove?.eventId !== fact.id) return undefined;
      return {
        trigger: 'mover',
        triggerKey: fact.id,
        at: fact.time,
        affects: (grant) => grant.beneficiaryId === identity.identityId,
        ...(identity.managerId !== undefined ? { reviewerOverride: identity.managerId } : {}),
      };
    }
    if (isEvent(fact, IdentityOwnerChanged)) {
      const { identityId, newOwnerId } = fact.data;
      return {
        trigger: 'owner_change',
        triggerKey: fact.id,
        at: fact.time,
        affects: (grant) => grant.beneficiaryId === identityId,
        reviewerOverride: newOwnerId,
      };
    }
    if (isEvent(fact, GrantDriftDetected)) {
      const { grantId } = fact.data;
      return grantId === undefined ? undefined : { trigger: 'drift', triggerKey: fact.id, at: fact.time, affects: (grant) => grant.grantId === grantId };
    }
    if (isEvent(fact, TimerFired)) {
      const { kind, target, timerId, firedAt } = fact.data;
      if (kind !== 'recertification_due' || target.grantId === undefined) return undefined;
      // The timer id names the grant and the occurrence: one review per occurrence however often it fires.
      return { trigger: 'grant_recertification', triggerKey: timerId, at: firedAt, affects: (grant) => grant.grantId === target.grantId };
    }
    if (isEvent(fact, PolicySodViolationDetected)) {
      const held = new Set(fact.data.grantIds);
      return { trigger: 'sod_violation', triggerKey: fact.data.violationId, at: fact.time, affects: (grant) => held.has(grant.grantId) };
    }
    return undefined;
  }
}

export const CERTIFICATION_COMMAND_HANDLERS = [ScheduleCampaignsHandler, StartCampaignHandler, DecideItemHandler, ExpireReviewsHandler, ObserveFactHandler];
