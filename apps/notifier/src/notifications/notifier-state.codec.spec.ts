import { GrantDriftDetected, GrantReconciliationCompleted, NotificationRequested, registry } from '@grantline/contracts';
import type { DriftDetectedData, Envelope, NotificationRequestedData } from '@grantline/contracts';
import { encodeJsonParts, firstSliceOf, packSnapshot, slicesOf, SnapshotUnusableError, unpackSnapshot } from '@grantline/messaging';
import { NotifierState, makeNotifierDecider } from '../domain';
import type { NotifierStateParts } from '../domain';
import { specEventId } from '../testing/event-id';
import { FACT_TIME, NotifierFacts, REVIEW_DUE } from '../testing/notifier-facts';
import { notifierStateCodec as codec } from './notifier-state.codec';

// The snapshot codec of the notifier state (ADR 0037): a state restored from a snapshot must be the state the replay
// would have built, for every query the notifier makes and for every event folded after it.

const decider = makeNotifierDecider({ registry, eventId: specEventId, securityGroupId: 'security', alertGroupId: 'security-oncall' });
const facts = new NotifierFacts();

const at = (minute: number): string => `2026-01-10T09:${String(minute).padStart(2, '0')}:00.000Z`;
const meta = (id: string, time: string, subject: string) => ({
  id,
  source: 'spec',
  time,
  subject,
  correlationid: subject,
  actor: { kind: 'service' as const, id: 'provisioning' },
});

type Finding = Pick<DriftDetectedData, 'connectorId' | 'kind' | 'targetAccount' | 'externalRef'> & Partial<DriftDetectedData>;

/** What provisioning publishes for one reconciliation of a connector observed at `minute`: its findings, then its summary. */
function reconciliation(connectorId: string, minute: number, findings: readonly Omit<Finding, 'connectorId'>[]): Envelope[] {
  const reportId = `rpt-${connectorId}-${minute}`;
  return [
    ...findings.map((finding, i) =>
      registry.encode(
        GrantDriftDetected,
        { systemId: `sys-${connectorId}`, detectedAt: at(minute), remediation: 'report_only', ...finding, connectorId },
        meta(`drift-${connectorId}-${minute}-${i}`, at(minute), finding.grantId !== undefined ? 'req-drift' : reportId),
      ),
    ),
    registry.encode(
      GrantReconciliationCompleted,
      {
        reportId,
        connectorId,
        observedAt: at(minute),
        assignments: findings.length,
        grantsExpected: 0,
        drift: { missingInTarget: 0, unexpectedInTarget: findings.length, expiredButPresent: 0 },
      },
      meta(`completed-${connectorId}-${minute}`, at(minute), reportId),
    ),
  ];
}

const recertificationReview = (requestId: string): Envelope =>
  registry.encode(
    registry.latestOf('iga.approval.review-opened'),
    { reviewId: `rev-${requestId}`, kind: 'recertification', requestId, grantIds: [`${requestId}:ent-x`], reviewerIds: ['lead-cy'], dueAt: REVIEW_DUE },
    {
      id: `rec-${requestId}`,
      source: 'grantline/approval',
      time: FACT_TIME,
      subject: requestId,
      correlationid: requestId,
      actor: { kind: 'service', id: 'approval' },
    },
  );

/** The log as the service leaves it (each fact, then the notifications it asked for), and its state folded as it goes. */
class ServiceLog {
  readonly events: Envelope[] = [];
  /** Where the facts sit in `events`: the service decides on them. */
  readonly inputs = new Set<number>();
  readonly state = new NotifierState();

  handle(...inputs: Envelope[]): void {
    for (const input of inputs) {
      const decided = decider.decide(input, this.state);
      this.inputs.add(this.events.length);
      for (const event of [input, ...decided]) {
        this.events.push(event);
        this.state.apply(event);
      }
    }
  }
}

const mallory = { kind: 'unexpected_in_target', targetAccount: 'mallory', externalRef: 'grantline_prod_read' } as const;
const eve = { kind: 'unexpected_in_target', targetAccount: 'eve', externalRef: 'grantline_prod_write' } as const;
const adaGone = { kind: 'missing_in_target', targetAccount: 'ada', externalRef: 'grantline_orders_read', grantId: 'req-drift:ent-orders-read' } as const;

/**
 * Break-glass grants and their reviews joined in either order (some half only, some delivered twice), a review of
 * another kind, grants with terminal and retried failures (one for a grant never seen), and reconciliations of two
 * connectors over more runs than the instants remembered, with drift that opens, continues, closes and comes back.
 */
function realisticHistory(): ServiceLog {
  const log = new ServiceLog();
  for (let i = 0; i < 10; i += 1) {
    const requestId = `req-bg-${i}`;
    if (i % 4 === 0) log.handle(facts.breakGlassGranted(requestId), facts.reviewOpened(requestId, ['lead-cy', `lead-${i}`]));
    if (i % 4 === 1) log.handle(facts.reviewOpened(requestId), facts.breakGlassGranted(requestId), facts.reviewOpened(requestId));
    if (i % 4 === 2) log.handle(facts.breakGlassGranted(requestId));
    if (i % 4 === 3) log.handle(facts.reviewOpened(requestId));
  }
  log.handle(recertificationReview('req-recert'));
  for (let i = 0; i < 8; i += 1) {
    const requestId = `req-grant-${i}`;
    log.handle(facts.grantCreated(requestId));
    if (i % 4 === 1) log.handle(facts.provisioningFailed(requestId, { terminal: false, attempts: 1 }), facts.provisioningFailed(requestId, { terminal: true }));
    if (i % 4 === 2) log.handle(facts.provisioningFailed(requestId, { terminal: true, operation: 'deprovision', attempts: 2 }));
    if (i % 4 === 3) log.handle(facts.provisioningFailed(requestId, { terminal: true }), facts.provisioningFailed(requestId, { terminal: true }));
  }
  log.handle(facts.provisioningFailed('req-never-created', { terminal: true }));
  for (let minute = 1; minute <= 12; minute += 1) {
    const postgres = [minute <= 4 || minute >= 6 ? [mallory] : [], minute % 3 === 0 ? [eve] : [], minute >= 10 ? [adaGone] : []].flat();
    log.handle(...reconciliation('postgres', minute, postgres));
    if (minute % 2 === 0) log.handle(...reconciliation('ldap', minute, minute === 4 ? [] : [eve]));
  }
  // A finding redelivered after later runs, and a summary read ahead of its run's finding.
  log.handle(reconciliation('postgres', 7, [mallory])[0]!);
  const [finding, summary] = reconciliation('postgres', 13, [mallory]);
  log.handle(summary!, finding!);
  return log;
}

/** Every key the history names, and some it does not. */
function keysOf(log: ServiceLog) {
  const data = log.events.map((event) => event.data as Record<string, unknown>);
  const strings = (field: string): string[] => [...new Set(data.flatMap((d) => (typeof d[field] === 'string' ? [d[field] as string] : [])))];
  const findings = log.events.filter((event) => event.type === GrantDriftDetected.type).map((event) => event.data as DriftDetectedData);
  const kinds = [...new Map(findings.map((f) => [`${f.connectorId}/${f.kind}/${f.targetAccount}/${f.externalRef}`, f])).values()];
  return {
    requests: [...strings('requestId'), 'req-unknown'],
    grants: [...strings('grantId'), 'req-unknown:ent-orders-read'],
    notifications: [...strings('notificationId'), 'notification-unknown'],
    // Each finding, as if detected at each minute around the runs (before, between, after them).
    findings: kinds.flatMap((finding) => Array.from({ length: 16 }, (_, minute) => ({ ...finding, detectedAt: at(minute) }))),
  };
}

type Keys = ReturnType<typeof keysOf>;

/** What every query of NotifierState answers. */
function answers(state: NotifierState, keys: Keys) {
  return {
    size: state.size,
    breakGlassOf: keys.requests.map((id) => state.breakGlassOf(id)),
    reviewOf: keys.requests.map((id) => state.reviewOf(id)),
    grant: keys.grants.map((id) => state.grant(id)),
    wasRequested: keys.notifications.map((id) => state.wasRequested(id)),
    continuesOpenDrift: keys.findings.map((finding) => state.continuesOpenDrift(finding)),
  };
}

const positionOf = (offset: number) => ({ topic: 'iga.notifications.v1', partition: 0, offset: String(offset) });

function foldedUpTo(events: readonly Envelope[], end: number): NotifierState {
  const state = new NotifierState();
  for (const event of events.slice(0, end)) state.apply(event);
  return state;
}

/** The state's frames, taken whole (`encode` hands them out lazily). */
function framesOf(state: NotifierState): Uint8Array[] {
  return [...codec.encode(state)];
}

async function restored(state: NotifierState): Promise<NotifierState> {
  const copy = codec.empty();
  await codec.decode(framesOf(state), copy);
  return copy;
}

/**
 * Deep equality of plain JSON values (answers, decided events), with Jest's diff when they differ: the loop below
 * compares hundreds of them, and equal JSON texts spare it the deep comparison.
 */
function expectSame(actual: unknown, expected: unknown): void {
  if (JSON.stringify(actual) !== JSON.stringify(expected)) expect(actual).toEqual(expected);
}

const history = realisticHistory();
/** Inputs decided on both states after each cut: every input is decided after many cuts, and the check stays linear. */
const DECISIONS_AFTER_CUT = 25;
const keys = keysOf(history);

describe('notifier state snapshot codec', () => {
  it('given the realistic history, then it fills every part of the state, and remembers no more instants than it may', () => {
    const parts = history.state.parts();
    const notifications = history.events.filter((event) => event.type === NotificationRequested.type).map((event) => event.data as NotificationRequestedData);

    expect(new Set(notifications.map((n) => n.template))).toEqual(new Set(['break_glass_granted', 'provisioning_failed', 'access_drift_detected']));
    expect(history.state.size).toEqual({ breakGlass: 8, grants: 8, requested: notifications.length });
    expect([...parts.reviews].map(([requestId]) => requestId)).toHaveLength(8);
    expect([...parts.reconciliations].map(([connectorId, instants]) => [connectorId, instants.length])).toEqual([
      ['postgres', 8],
      ['ldap', 6],
    ]);
    expect([...parts.detections].map(([, instants]) => instants.length)).toEqual(expect.arrayContaining([8, 3]));
    expect(keys.findings.some((finding) => history.state.continuesOpenDrift(finding))).toBe(true);
    expect(keys.findings.some((finding) => !history.state.continuesOpenDrift(finding))).toBe(true);
  });

  it('given the state snapshotted after any event of the history, when the rest is folded into it and into the live state, then both answer every query and decide every fact alike', async () => {
    const { events, inputs } = history;
    for (let cut = 0; cut <= events.length; cut += 1) {
      // Given the live state at the cut, and one restored from its snapshot
      const live = foldedUpTo(events, cut);
      const fromSnapshot = await restored(live);
      expectSame({ cut, answers: answers(fromSnapshot, keys) }, { cut, answers: answers(live, keys) });

      // When the rest of the log is folded into both (the restored one through the codec, as the compactor folds)
      const decidedLive: (readonly Envelope[])[] = [];
      const decidedFromSnapshot: (readonly Envelope[])[] = [];
      for (let offset = cut; offset < events.length; offset += 1) {
        const event = events[offset]!;
        if (inputs.has(offset) && decidedLive.length < DECISIONS_AFTER_CUT) {
          decidedLive.push(decider.decide(event, live));
          decidedFromSnapshot.push(decider.decide(event, fromSnapshot));
        }
        live.apply(event);
        codec.apply(fromSnapshot, event, positionOf(offset));
      }

      // Then they decided alike, are the same state, and the live one is the service's
      expectSame({ cut, decided: decidedFromSnapshot }, { cut, decided: decidedLive });
      expect(fromSnapshot).toStrictEqual(live);
      expectSame({ cut, answers: answers(fromSnapshot, keys) }, { cut, answers: answers(history.state, keys) });
    }
  });

  it('given the whole history folded through the codec, then it is the state the service folded as it went (the compactor builds the live state)', () => {
    const compacted = codec.empty();
    history.events.forEach((event, offset) => codec.apply(compacted, event, positionOf(offset)));

    expect(compacted).toStrictEqual(history.state);
  });

  it('given a snapshot packed into stored chunks and unpacked again, when decoded, then it is the state it was taken of', async () => {
    const packed = await packSnapshot(framesOf(history.state), 512);
    const frames = await unpackSnapshot({ sha256: packed.sha256, bytes: packed.bytes, chunks: packed.chunks.length }, packed.chunks);

    const state = codec.empty();
    await codec.decode(frames, state);

    expect(packed.chunks.length).toBeGreaterThan(1);
    expect(state).toStrictEqual(history.state);
  });

  it('given 50,000 notifications requested, when encoded, then their ids are sliced in frames of at most 20,000, and decoded back whole', async () => {
    const many = new NotifierState();
    const requested = Array.from({ length: 50_000 }, (_, i) => `notification-${i}`);
    many.restore({ breakGlass: [], reviews: [], grants: [], requested, reconciliations: [], detections: [] });

    const frames = framesOf(many);
    const decoded = codec.empty();
    await codec.decode(frames, decoded);

    expect(slicesOf(frames, 'requested')).toBe(3);
    expect([...decoded.parts().requested]).toEqual(requested);
  });

  describe('a snapshot it cannot use', () => {
    const good = (): Uint8Array[] => framesOf(history.state);
    const emptyParts: Record<keyof NotifierStateParts, unknown[]> = {
      breakGlass: [],
      reviews: [],
      grants: [],
      requested: [],
      reconciliations: [],
      detections: [],
    };
    const withGrants = (more: Partial<Record<keyof NotifierStateParts, unknown[]>>): Uint8Array[] => [
      ...encodeJsonParts({ ...emptyParts, grants: [...history.state.parts().grants], ...more }),
    ];
    const cases: [string, () => Uint8Array[], (error: unknown) => void][] = [
      [
        'a frame whose bytes are not JSON',
        () => {
          const frames = good();
          const grants = firstSliceOf(frames, 'grants');
          frames[grants] = Buffer.from(frames[grants]!).subarray(0, 10);
          return frames;
        },
        (error) => expect(error).toBeInstanceOf(SyntaxError),
      ],
      ['its last frame missing', () => good().slice(0, -1), (error) => expect(error).toBeInstanceOf(SnapshotUnusableError)],
      ['no frame at all', () => [], (error) => expect(error).toBeInstanceOf(SnapshotUnusableError)],
      [
        'the detections part left out',
        () => {
          const { detections: _left, ...rest } = emptyParts;
          return [...encodeJsonParts({ ...rest, grants: [...history.state.parts().grants] })];
        },
        (error) => expect(error).toEqual(new SnapshotUnusableError('it has no part named detections')),
      ],
      [
        'an entry that is not a [key, value] pair',
        () => withGrants({ reviews: [['req-1', 'lead-cy', 'extra']] }),
        (error) => expect(error).toBeInstanceOf(SnapshotUnusableError),
      ],
      ['a notification id that is not a string', () => withGrants({ requested: [null] }), (error) => expect(error).toBeInstanceOf(SnapshotUnusableError)],
      [
        'instants that are not a list of strings',
        () => withGrants({ reconciliations: [['postgres', [1]]] }),
        (error) => expect(error).toBeInstanceOf(SnapshotUnusableError),
      ],
    ];

    it.each(cases)('given %s, when decoded, then it throws and the state it was decoding into still holds nothing', async (_name, frames, check) => {
      const into = codec.empty();
      let thrown: unknown;
      try {
        await codec.decode(frames(), into);
      } catch (error) {
        thrown = error;
      }

      expect(thrown).toBeDefined();
      check(thrown);
      expect(into).toStrictEqual(new NotifierState());
    });

    it('given a state that already holds something, when a snapshot is decoded into it, then it refuses and leaves the state as it was', async () => {
      const into = foldedUpTo(history.events, 5);
      const before = foldedUpTo(history.events, 5);

      await expect(codec.decode(framesOf(history.state), into)).rejects.toThrow('restored only into a state that holds nothing');
      expect(into).toStrictEqual(before);
    });
  });
});
