import {
  ApprovalCampaignCompleted,
  ApprovalCampaignScheduled,
  ApprovalCampaignStarted,
  ApprovalCertificationBlocked,
  ApprovalCertificationDecided,
  ApprovalCertificationLapsed,
  isoDurationToMillis,
} from '@grantline/contracts';
import type { Actor, CertificationBlockedData, CertificationItem, Entitlement, Envelope, EventDefinition, EventRegistry } from '@grantline/contracts';
import { EventFactory } from '@grantline/decider';
import type { Decider, EventIdOf, Producer } from '@grantline/decider';
import type { ApprovalPolicy } from '../../domain/approval.policy';
import { groupMembers, isActive } from '../../domain/directory';
import type { Directory } from '../../domain/directory';
import type { CampaignDefinition, CampaignScope, ReviewerSpec } from './campaign-definition';
import { CertificationRefused } from './certification.commands';
import type { CertificationCommand, DecideItemCommand, ReviewDeadlineCommand, ScheduleCampaignCommand, StartCampaignCommand } from './certification.commands';
import { evolveCampaign } from './certification.evolve';
import { countsOf, initialCampaignState, isClosed } from './certification.state';
import type { CampaignState, ItemState } from './certification.state';
import { isLive } from './grant-facts';
import type { GrantFact } from './grant-facts';

const CERTIFICATION_PRODUCER: Producer = { source: 'grantline/approval', actor: { kind: 'service', id: 'approval' } };

/** What the certification decider is built with: nothing inside reads the world. */
export interface CertificationContext {
  readonly directory: Directory;
  readonly policy: ApprovalPolicy;
  readonly registry: EventRegistry;
  readonly eventId: EventIdOf;
  readonly definitions: ReadonlyMap<string, CampaignDefinition>;
  /** Who asked for the request a grant came from, when the approval state knows it (four eyes). */
  readonly requesterOf: (requestId: string) => string | undefined;
}

export type CertificationDecider = Decider<CertificationCommand, Envelope, CampaignState>;

type Emit = <TType extends string, TData>(definition: EventDefinition<TType, TData>, data: TData, idParts: readonly string[]) => Envelope;

export const itemIdOf = (campaignId: string, grantId: string): string => `${campaignId}/${grantId}`;
/** A cadence run's id: the definition and the instant it is due, so the timer that starts it names it. */
export const scheduledCampaignIdOf = (definitionId: string, dueAt: string): string => `${definitionId}:${dueAt}`;
/** A micro-certification's id: the definition and the event that asked for it (one campaign per trigger event). */
export const triggeredCampaignIdOf = (definitionId: string, triggerEventId: string): string => `${definitionId}:${triggerEventId}`;

export const plus = (iso: string, duration: string): string => new Date(Date.parse(iso) + (isoDurationToMillis(duration) ?? 0)).toISOString();

const PRIVILEGED_SENSITIVITIES: ReadonlySet<string> = new Set(['high', 'critical']);

/** Admin rights, or high/critical sensitivity: an unanswered review of it is revoked, never escalated. */
export const isPrivileged = (entitlement: Pick<Entitlement, 'privileges' | 'sensitivity'>): boolean =>
  entitlement.privileges.includes('admin') || PRIVILEGED_SENSITIVITIES.has(entitlement.sensitivity);

const inScope = (scope: CampaignScope, entitlement: Entitlement, kind: string): boolean =>
  (scope.sensitivities?.includes(entitlement.sensitivity) ?? true) &&
  (scope.systemIds?.includes(entitlement.systemId) ?? true) &&
  (scope.environments?.includes(entitlement.environment) ?? true) &&
  (scope.identityKinds?.some((listed) => listed === kind) ?? true);

export type ReviewRelation = CertificationBlockedData['relation'];

/**
 * Why this person may never review this grant, if so: it is their own access, the NHI they own (unless the definition
 * asks the owner of record to review it), or access they asked for themselves.
 */
export const selfRelationToItem = (
  reviewerId: string,
  item: Pick<CertificationItem, 'beneficiaryId' | 'beneficiaryKind' | 'requestId'>,
  ctx: Pick<CertificationContext, 'directory' | 'requesterOf'>,
  ownerOfRecordReview: boolean,
): Exclude<ReviewRelation, 'not_a_reviewer'> | undefined => {
  if (reviewerId === item.beneficiaryId) return 'beneficiary';
  if (item.beneficiaryKind !== 'human' && !ownerOfRecordReview && ctx.directory.identities.get(item.beneficiaryId)?.ownerId === reviewerId) return 'nhi_owner';
  if (ctx.requesterOf(item.requestId) === reviewerId) return 'requester';
  return undefined;
};

const managerOf = (directory: Directory, identityId: string): string | undefined => {
  const identity = directory.identities.get(identityId);
  // An NHI has no manager: its owner's manager answers for it.
  const person = identity?.kind === 'human' ? identity : directory.identities.get(identity?.ownerId ?? '');
  return person?.managerId;
};

const candidatesOf = (spec: ReviewerSpec, grant: GrantFact, entitlement: Entitlement, ctx: CertificationContext): string[] => {
  switch (spec.kind) {
    case 'manager': {
      const manager = managerOf(ctx.directory, grant.beneficiaryId);
      return manager !== undefined ? [manager] : [];
    }
    case 'resource_owner':
      return [entitlement.ownerId];
    case 'nhi_owner': {
      const beneficiary = ctx.directory.identities.get(grant.beneficiaryId);
      const owner = beneficiary?.kind === 'human' ? beneficiary.managerId : beneficiary?.ownerId;
      return owner !== undefined ? [owner] : [];
    }
    case 'group':
      return groupMembers(ctx.directory, spec.group, ctx.policy.groups);
  }
};

/** Eligible among `candidates`; else the security group (minus anyone related to the item); else the group itself. */
const eligibleReviewers = (
  candidates: readonly string[],
  item: Omit<CertificationItem, 'reviewerIds'>,
  ctx: CertificationContext,
  ownerOfRecord: boolean,
): string[] => {
  const eligible = (ids: readonly string[]): string[] =>
    [...new Set(ids)].filter((id) => isActive(ctx.directory, id) && selfRelationToItem(id, item, ctx, ownerOfRecord) === undefined);
  const named = eligible(candidates);
  if (named.length > 0) return named.slice(0, 50);
  const security = eligible(groupMembers(ctx.directory, ctx.policy.securityGroup, ctx.policy.groups));
  return security.length > 0 ? security.slice(0, 50) : [ctx.policy.securityGroup];
};

interface Deciding extends CertificationContext {
  emitter(campaignId: string, time: string, causeId?: string, actor?: Actor): Emit;
}

const schedule = (command: ScheduleCampaignCommand, state: CampaignState, ctx: Deciding): Envelope[] => {
  if (state.scheduled !== undefined || state.campaign !== undefined) return [];
  const { campaignId, definition, dueAt, at } = command;
  return [ctx.emitter(campaignId, at)(ApprovalCampaignScheduled, { definitionId: definition.definitionId, campaignId, dueAt }, [campaignId])];
};

/** The items of a start: the live candidates in scope, each with its reviewers. */
const snapshot = (command: StartCampaignCommand, ctx: Deciding): CertificationItem[] => {
  const { definition, campaignId, at } = command;
  const ownerOfRecord = definition.reviewer.kind === 'nhi_owner';
  const items: CertificationItem[] = [];
  for (const grant of [...command.candidates].sort((a, b) => a.grantId.localeCompare(b.grantId))) {
    const entitlement = ctx.directory.entitlements.get(grant.entitlementId);
    const kind = ctx.directory.identities.get(grant.beneficiaryId)?.kind;
    // A grant whose entitlement or holder the directory does not know cannot be scoped: it is left for the next run.
    if (!entitlement || kind === undefined || !isLive(grant, at) || !inScope(definition.scope, entitlement, kind)) continue;
    const item = {
      itemId: itemIdOf(campaignId, grant.grantId),
      grantId: grant.grantId,
      requestId: grant.requestId,
      beneficiaryId: grant.beneficiaryId,
      beneficiaryKind: kind,
      entitlementId: grant.entitlementId,
      systemId: grant.systemId,
      sensitivity: entitlement.sensitivity,
      environment: entitlement.environment,
      privileged: isPrivileged(entitlement),
      expiresAt: grant.expiresAt,
    };
    const candidates = command.reviewerOverride !== undefined ? [command.reviewerOverride] : candidatesOf(definition.reviewer, grant, entitlement, ctx);
    items.push({ ...item, reviewerIds: eligibleReviewers(candidates, item, ctx, ownerOfRecord) });
  }
  return items.slice(0, 2000);
};

const start = (command: StartCampaignCommand, state: CampaignState, ctx: Deciding): Envelope[] => {
  if (state.campaign !== undefined) return [];
  const { campaignId, definition, trigger, at } = command;
  const emit = ctx.emitter(campaignId, at, command.triggerEventId, command.startedBy !== undefined ? { kind: 'user', id: command.startedBy } : undefined);
  const items = snapshot(command, ctx);
  const started = emit(
    ApprovalCampaignStarted,
    {
      campaignId,
      definitionId: definition.definitionId,
      trigger,
      ...(command.triggerEventId !== undefined ? { triggerEventId: command.triggerEventId } : {}),
      ...(command.startedBy !== undefined ? { startedBy: command.startedBy } : {}),
      startedAt: at,
      dueAt: plus(at, definition.deadline),
      onNoAnswer: definition.onNoAnswer,
      items,
    },
    [campaignId],
  );
  const events = [started];
  // The next cadence run is armed when this one starts, so a run missed while the service was down still starts once.
  if (trigger === 'schedule' && definition.cadence !== undefined) {
    const nextDueAt = plus(state.scheduled?.dueAt ?? at, definition.cadence);
    const nextId = scheduledCampaignIdOf(definition.definitionId, nextDueAt);
    events.push(
      ctx.emitter(nextId, at, started.id)(ApprovalCampaignScheduled, { definitionId: definition.definitionId, campaignId: nextId, dueAt: nextDueAt }, [nextId]),
    );
  }
  // Nothing in scope: the campaign is complete as it starts (the evidence that it ran).
  if (items.length === 0)
    events.push(completion(campaignId, definition.definitionId, foldCampaign([started], state), at, ctx.emitter(campaignId, at, started.id)));
  return events;
};

const foldCampaign = (events: readonly Envelope[], state: CampaignState): CampaignState => events.reduce(evolveCampaign, state);

const completion = (campaignId: string, definitionId: string, after: CampaignState, at: string, emit: Emit): Envelope => {
  const { items, certified, revoked, reduced, lapsed } = countsOf(after);
  return emit(ApprovalCampaignCompleted, { campaignId, definitionId, counts: { items, certified, revoked, reduced, lapsed }, completedAt: at }, [campaignId]);
};

/** Appends the completion when `decided` closes the last open item. */
const withCompletion = (decided: Envelope[], state: CampaignState, at: string, emit: Emit): Envelope[] => {
  const campaign = state.campaign;
  if (!campaign || decided.length === 0 || state.completedAt !== undefined) return decided;
  const after = foldCampaign(decided, state);
  if ([...after.items.values()].some((item) => !isClosed(item))) return decided;
  return [...decided, completion(campaign.campaignId, campaign.definitionId, after, at, emit)];
};

const decideItem = (command: DecideItemCommand, state: CampaignState, ctx: Deciding): Envelope[] => {
  const { campaignId, itemId, reviewerId, decision, at } = command;
  const item = state.items.get(itemId);
  if (!state.campaign || !item) throw new CertificationRefused('unknown_item', `no review item ${itemId} in campaign ${campaignId}`);
  const definition = ctx.definitions.get(state.campaign.definitionId);
  const relation = selfRelationToItem(reviewerId, item.item, ctx, definition?.reviewer.kind === 'nhi_owner');
  const blocked = (why: ReviewRelation, reason: string): Envelope[] => [
    ctx.emitter(campaignId, at, undefined, { kind: 'user', id: reviewerId })(
      ApprovalCertificationBlocked,
      { campaignId, itemId, attemptedById: reviewerId, relation: why, reason, attemptedAt: at },
      [itemId, reviewerId, at],
    ),
  ];
  if (relation) return blocked(relation, `${reviewerId} may not review ${itemId}: they are its ${relation.replace('_', ' ')}`);
  if (item.answer?.reviewerId === reviewerId && item.answer.decision === decision && item.answer.newExpiresAt === command.newExpiresAt) return [];
  if (isClosed(item)) throw new CertificationRefused('item_closed', `review item ${itemId} is already ${item.status}`);
  if (!item.reviewerIds.includes(reviewerId) || !isActive(ctx.directory, reviewerId)) {
    return blocked('not_a_reviewer', `${reviewerId} is not a reviewer of ${itemId}`);
  }
  if (decision === 'reduce') {
    const until = command.newExpiresAt;
    if (until === undefined) throw new CertificationRefused('invalid_expiry', 'reduce needs newExpiresAt', 'newExpiresAt');
    if (Date.parse(until) <= Date.parse(at) || Date.parse(until) >= Date.parse(item.item.expiresAt)) {
      throw new CertificationRefused('invalid_expiry', `newExpiresAt must be after now and before the grant's expiry (${item.item.expiresAt})`, 'newExpiresAt');
    }
  }
  const decided = ctx.emitter(campaignId, at, undefined, { kind: 'user', id: reviewerId })(
    ApprovalCertificationDecided,
    {
      campaignId,
      itemId,
      grantId: item.item.grantId,
      decision,
      ...(decision === 'reduce' && command.newExpiresAt !== undefined ? { newExpiresAt: command.newExpiresAt } : {}),
      reviewerId,
      ...(command.comment !== undefined ? { comment: command.comment } : {}),
      decidedAt: at,
    },
    [itemId],
  );
  return withCompletion([decided], state, at, ctx.emitter(campaignId, at, decided.id));
};

/** The reviewers' managers (not related to the item), else the security group. */
const escalationTargets = (item: ItemState, ctx: Deciding): string[] => {
  const managers = item.reviewerIds.flatMap((id) => {
    const manager = ctx.directory.identities.get(id)?.managerId;
    return manager !== undefined ? [manager] : [];
  });
  return eligibleReviewers(managers, item.item, ctx, false);
};

const deadline = (command: ReviewDeadlineCommand, state: CampaignState, ctx: Deciding): Envelope[] => {
  const { campaign } = state;
  if (!campaign || state.completedAt !== undefined) return [];
  const { campaignId, firedAt } = command;
  const emit = ctx.emitter(campaignId, firedAt, command.timerEventId);
  const escalationDeadline = ctx.definitions.get(campaign.definitionId)?.escalationDeadline ?? 'P2D';
  const lapsed: Envelope[] = [];
  for (const item of state.items.values()) {
    if (isClosed(item) || Date.parse(item.dueAt) > Date.parse(firedAt)) continue;
    const base = { campaignId, itemId: item.item.itemId, grantId: item.item.grantId, previousDueAt: item.dueAt, lapsedAt: firedAt };
    // Privileged access, a second miss, or a definition that says so: the grant goes.
    if (item.item.privileged || item.escalated || campaign.onNoAnswer === 'revoke') {
      lapsed.push(emit(ApprovalCertificationLapsed, { ...base, action: 'revoke' }, [item.item.itemId, item.dueAt]));
    } else {
      const escalatedToIds = escalationTargets(item, ctx);
      lapsed.push(
        emit(ApprovalCertificationLapsed, { ...base, action: 'escalate', escalatedToIds, dueAt: plus(firedAt, escalationDeadline) }, [
          item.item.itemId,
          item.dueAt,
        ]),
      );
    }
  }
  return withCompletion(lapsed, state, firedAt, emit);
};

/**
 * The certification aggregate (one per campaign) as a Decider: pure over the command, the campaign's state and the
 * context. decide returns the events to publish (none for a repeat or a stale timer), a recorded blocked attempt
 * for a refused reviewer with a relation to the item, or throws CertificationRefused.
 */
export const makeCertificationDecider = (context: CertificationContext): CertificationDecider => {
  const events = new EventFactory(context.registry, CERTIFICATION_PRODUCER, context.eventId);
  const ctx: Deciding = {
    ...context,
    emitter: (campaignId, time, causeId, actor) => (definition, data, idParts) =>
      events.derive(definition, data, {
        idParts: [definition.type, ...idParts],
        subject: campaignId,
        correlationId: campaignId,
        time,
        ...(causeId !== undefined ? { cause: { id: causeId } } : {}),
        ...(actor !== undefined ? { actor } : {}),
      }),
  };
  return {
    initialState: initialCampaignState,
    evolve: evolveCampaign,
    decide: (command, state) => {
      switch (command.kind) {
        case 'schedule':
          return schedule(command, state, ctx);
        case 'start':
          return start(command, state, ctx);
        case 'decide_item':
          return decideItem(command, state, ctx);
        case 'deadline':
          return deadline(command, state, ctx);
      }
    },
  };
};
