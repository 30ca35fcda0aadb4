import type { CommandBus } from '@nestjs/cqrs';
import { IdentityUpserted, fixtureMeta, registry, topicOf } from '@grantline/contracts';
import type { Envelope } from '@grantline/contracts';
import { InMemoryMessageBus, jsonFrame } from '@grantline/messaging';
import type { LogPosition } from '@grantline/messaging';
import type { ApprovalCommand } from '../domain/approval.commands';
import { reviewIdOf } from '../domain/approval.decide';
import { DEFAULT_APPROVAL_POLICY } from '../domain/approval.policy';
import { statusOf } from '../domain/approval.state';
import { taskScopeOf } from '../domain/inbox.view';
import { makeReviewDecider } from '../domain/review.decide';
import type { ReviewCommand } from '../domain/review.decide';
import { catalogEvent, decided, human, organisation, specContext, specDecider, stage, submitted, withdrawn } from '../testing/approval-scenario';
import { DEFAULT_DIRECTORY_WAIT_MS } from './approval.config';
import { ApprovalLogState } from './approval-log-state';
import { approvalStateCodec as codec } from './approval-log-state.codec';
import { ApprovalStateService } from './approval-state.service';

const AT = '2026-01-05T11:00:00.000Z';
const LATER = '2026-01-07T12:00:00.000Z';
const REQUESTS = ['req-approved', 'req-denied', 'req-bg', 'req-withdrawn', 'req-escalated', 'req-open', 'req-late'];
const PEOPLE = ['alice', 'bob', 'carol', 'dave', 'erin', 'sec-1', 'sec-2', 'svc-orders', 'nobody'];

/** The service over a state of its own: its queries are what a restored state must answer alike. */
const serviceOver = (): ApprovalStateService =>
  new ApprovalStateService(new InMemoryMessageBus({ registry }), registry, { policy: DEFAULT_APPROVAL_POLICY, directoryWaitMs: DEFAULT_DIRECTORY_WAIT_MS }, {
    execute: async () => undefined,
  } as unknown as CommandBus);

/**
 * The approvals log as the service writes it: facts from other services, and what its deciders decided on the state
 * folded so far (decide, then fold, as `commit` does). The midpoint ends the first half; the second half moves every
 * request (approve, escalate, complete, withdraw), the directory and the catalogue on.
 */
const history = (): { log: Envelope[]; midpoint: number } => {
  const state = new ApprovalLogState();
  const log: Envelope[] = [];
  const happen = (...events: readonly Envelope[]): void => {
    for (const event of events) {
      log.push(event);
      state.apply(event);
    }
  };
  const decide = (requestId: string, command: ApprovalCommand): void => happen(...specDecider(state.directory).decide(command, state.stateOf(requestId)));
  const review = (requestId: string, command: ReviewCommand): void =>
    happen(...makeReviewDecider(specContext(state.directory)).decide(command, state.reviews.stateOf(requestId)));
  const route = (requestId: string): void => decide(requestId, { kind: 'route', requestId });
  const taskOf = (requestId: string): string => state.stateOf(requestId).tasks.at(-1)!.taskId;

  happen(...organisation(), catalogEvent());
  for (const requestId of ['req-approved', 'req-withdrawn', 'req-open']) happen(submitted(requestId), decided(requestId));
  happen(submitted('req-escalated'), decided('req-escalated', { route: { stages: [stage('manager', [{ resolver: 'manager' }], 1, 'PT1H')] } }));
  happen(submitted('req-denied'), decided('req-denied', { effect: 'deny', reasons: ['not today'] }));
  happen(
    submitted('req-bg', { emergency: { breakGlass: true, incidentRef: { system: 'jira', id: 'INC-7' } } }),
    decided('req-bg', { effect: 'auto_approve', constraints: { maxDuration: 'P1D', breakGlassAllowed: true } }),
  );
  for (const requestId of ['req-approved', 'req-withdrawn', 'req-open', 'req-escalated', 'req-denied', 'req-bg']) route(requestId);
  // alice may not answer her own request: recorded as evidence.
  decide('req-open', { kind: 'decide_task', requestId: 'req-open', taskId: taskOf('req-open'), approverId: 'alice', decision: 'approve', at: AT });
  happen(submitted('req-late'));
  const midpoint = log.length;

  decide('req-approved', { kind: 'decide_task', requestId: 'req-approved', taskId: taskOf('req-approved'), approverId: 'bob', decision: 'approve', at: AT });
  decide('req-escalated', { kind: 'deadline', requestId: 'req-escalated', taskId: taskOf('req-escalated'), timerEventId: 'timer-1', firedAt: LATER });
  happen(withdrawn('req-withdrawn'));
  review('req-bg', { kind: 'review_due', requestId: 'req-bg', reviewId: reviewIdOf('req-bg'), timerEventId: 'timer-bg', firedAt: LATER });
  review('req-bg', {
    kind: 'complete_review',
    requestId: 'req-bg',
    reviewId: reviewIdOf('req-bg'),
    reviewerId: 'sec-1',
    asSecurity: true,
    outcome: 'justified',
    findings: 'read-only queries during the incident',
    at: LATER,
  });
  happen(
    registry.encode(
      IdentityUpserted,
      { identity: human('erin', { managerId: 'carol' }), sourceVersion: 7 },
      fixtureMeta({ id: 'erin-moved', subject: 'erin' }),
    ),
    catalogEvent(registry, '', 2),
    decided('req-late'),
  );
  route('req-late');
  return { log, midpoint };
};

const answersOf = (service: ApprovalStateService) => {
  const tasks = REQUESTS.flatMap((requestId) => service.stateOf(requestId).tasks.map((task) => task.taskId));
  return {
    states: REQUESTS.map((requestId) => service.stateOf(requestId)),
    statuses: REQUESTS.map((requestId) => statusOf(service.stateOf(requestId))),
    unrouted: service.unrouted(),
    openTasks: PEOPLE.map((id) => service.openTasksFor(id)),
    relations: REQUESTS.flatMap((requestId) => PEOPLE.map((id) => [...service.relationsTo(requestId, id)])),
    requestsOfTasks: tasks.map((taskId) => service.requestOfTask(taskId)),
    reviews: [service.reviews.open(), ...PEOPLE.map((id) => service.reviews.open(id)), ...REQUESTS.map((requestId) => service.reviews.view(requestId))],
    reviewRequests: REQUESTS.map((requestId) => service.reviews.requestOf(reviewIdOf(requestId))),
    scopes: REQUESTS.map((requestId) =>
      taskScopeOf(requestId, service.stateOf(requestId), service.inbox, service.directory, (other) => service.stateOf(other)),
    ),
    directory: { catalogVersion: service.directory.catalogVersion, erin: service.directory.identities.get('erin') },
  };
};

const onTheLog = (events: readonly Envelope[]): { event: Envelope; position: LogPosition }[] =>
  events.map((event, offset) => ({ event, position: { topic: topicOf(registry.definitionOf(event.type), event.data), partition: 0, offset: String(offset) } }));

const foldInto = (state: ApprovalLogState, events: readonly Envelope[]): void => {
  for (const { event, position } of onTheLog(events)) codec.apply(state, event, position);
};

/** The state's frames, taken whole (`encode` hands them out lazily). */
const framesOf = (state: ApprovalLogState): Uint8Array[] => [...codec.encode(state)];

/** Where the first slice of a part lies: right after its marker frame (`encodeJsonParts`). */
const firstSliceOf = (frames: readonly Uint8Array[], part: string): number => {
  const marker = JSON.stringify({ part });
  const at = frames.findIndex((frame) => Buffer.from(frame).toString('utf8') === marker) + 1;
  if (at === 0 || frames[at]?.[0] !== '['.charCodeAt(0)) throw new Error(`the frames hold no slice of part ${part}`);
  return at;
};

describe('approvalStateCodec: the approval state in a snapshot (ADR 0037)', () => {
  const { log, midpoint } = history();

  it('Given the state folded up to the midpoint and restored from its snapshot, When the rest of the log folds into both, Then the service answers every query alike and the states are equal', async () => {
    const live = serviceOver();
    const restored = serviceOver();
    foldInto(live.state, log.slice(0, midpoint));
    await codec.decode(framesOf(live.state), restored.state);
    expect(restored.state).toEqual(live.state);
    expect(answersOf(restored)).toEqual(answersOf(live));

    foldInto(live.state, log.slice(midpoint));
    foldInto(restored.state, log.slice(midpoint));

    expect(answersOf(restored)).toEqual(answersOf(live));
    expect(restored.state).toEqual(live.state);
    // The frames hold the maps in iteration order, so equal frames mean equal order too.
    expect(framesOf(restored.state)).toEqual(framesOf(live.state));
    // The history reached every part of the state: a part left empty would prove nothing.
    expect(answersOf(live)).toMatchObject({
      statuses: ['approved', 'denied', 'break_glass', 'withdrawn', 'pending', 'pending', 'pending'],
      reviews: expect.arrayContaining([expect.objectContaining({ status: 'completed', escalations: 1 })]),
      directory: { catalogVersion: 2, erin: { managerId: 'carol' } },
    });
    expect(live.state.stateOf('req-open').blockedAttempts).toBe(1);
    expect(live.state.directory.identityVersions.get('erin')).toBe(7);
  });

  it('Given a restored state, When the events it holds are delivered again, Then nothing changes (the seen event ids came back with it)', async () => {
    const live = serviceOver();
    foldInto(live.state, log);
    const restored = serviceOver();
    await codec.decode(framesOf(live.state), restored.state);

    foldInto(restored.state, log);

    expect(restored.state).toEqual(live.state);
    expect(answersOf(restored)).toEqual(answersOf(live));
  });

  it('Given the whole log, When the compactor folds it with codec.apply, Then its state equals the one the service replays', () => {
    const service = serviceOver();
    // What ReplayedStateService.applyReplayed does with every event of the replay (this state needs no position).
    for (const event of log) service.state.apply(event);
    const compacted = codec.empty();

    foldInto(compacted, log);

    expect(compacted).toEqual(service.state);
    expect(framesOf(compacted)).toEqual(framesOf(service.state));
  });

  describe('Given frames it cannot use, When decoded, Then it throws and the target stays empty', () => {
    const live = codec.empty();
    foldInto(live, log);
    const frames = framesOf(live);
    const identities = firstSliceOf(frames, 'identities');
    const lastPart = firstSliceOf(frames, 'inboxBySubject');
    const cases: [string, () => Uint8Array[]][] = [
      ['a frame cut short', () => frames.map((frame, i) => (i === identities ? frame.subarray(0, frame.length - 2) : frame))],
      ['a part missing', () => [jsonFrame({ part: 'identities' }), frames[identities]!]],
      ['the last part (the inbox) not sets', () => frames.map((frame, i) => (i === lastPart ? jsonFrame([['alice', 'req-approved']]) : frame))],
      [
        'a request without its seen event ids',
        () => {
          const requests = framesOf(live).map((frame) => JSON.parse(Buffer.from(frame).toString('utf8')) as unknown);
          const at = firstSliceOf(frames, 'requests');
          const entries = requests[at] as [string, Record<string, unknown>][];
          delete entries.at(-1)![1]['seenEventIds'];
          return requests.map((part) => jsonFrame(part));
        },
      ],
      ['no frames at all', () => []],
    ];

    it.each(cases)('%s', async (_, corrupt) => {
      const into = codec.empty();

      await expect(codec.decode(corrupt(), into)).rejects.toThrow();

      expect(into).toEqual(codec.empty());
      expect(framesOf(into)).toEqual(framesOf(codec.empty()));
    });
  });
});
