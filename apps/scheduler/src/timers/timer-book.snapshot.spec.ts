import { IdentityOwnerChanged, IdentityOwnershipTransferOpened, registry } from '@grantline/contracts';
import type { Envelope } from '@grantline/contracts';
import { firstSliceOf, packSnapshot, SnapshotUnusableError, unpackSnapshot } from '@grantline/messaging';
import { specEventId } from '../testing/event-id';
import { schedulerEvents } from '../testing/scheduler-events';
import { TimerBook } from '../domain/timer-book';
import { TIMER_BOOK_SNAPSHOT_VERSION, timerBookSnapshotCodec as codec } from './timer-book.snapshot';

const e = schedulerEvents();
const DAY = 86_400_000;
const START = Date.parse('2025-01-01T00:00:00.000Z');
const at = (ms: number): string => new Date(ms).toISOString();
const uuid = (n: number, kind: number): string => `0000000${kind}-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
const POSITION = { topic: 'spec', partition: 0, offset: '0' };

function transferOpened(transferId: string, identityId: string, dueAt: string): Envelope {
  return registry.encode(
    IdentityOwnershipTransferOpened,
    {
      transferId,
      identityId,
      previousOwnerId: 'alice',
      assigneeIds: ['maria'],
      dueAt,
      openedAt: at(START),
      reason: 'owner_offboarded',
      grantsDisposition: 'keep_until_deadline',
    },
    {
      id: `opened-${transferId}`,
      source: 'grantline/spec',
      time: at(START),
      subject: identityId,
      correlationid: identityId,
      actor: { kind: 'service', id: 'intake' },
    },
  );
}

function ownerChanged(identityId: string): Envelope {
  return registry.encode(
    IdentityOwnerChanged,
    { identityId, previousOwnerId: 'alice', newOwnerId: 'maria', reason: 'owner_offboarded', changedBy: 'maria' },
    {
      id: `owner-changed-${identityId}`,
      source: 'grantline/spec',
      time: at(START),
      subject: identityId,
      correlationid: identityId,
      actor: { kind: 'service', id: 'intake' },
    },
  );
}

/**
 * A deterministic history over `days` days from START + `fromDay`: grants with UUID ids (compact timers) and with
 * plain ids (kept whole), moved by activation, some revoked; approval tasks with a quorum, decided or denied;
 * recertification plans; break-glass reviews; ownership transfer cases, some closed; redeliveries.
 */
function history(seed: number, count: number, fromDay: number): Envelope[] {
  // MINSTD: its low digits are as random as its high ones (a power-of-two modulus would cycle them)
  let x = seed;
  const rand = (n: number): number => {
    x = (x * 48_271) % 2_147_483_647;
    return x % n;
  };
  const when = (): string => at(START + (fromDay + rand(30)) * DAY + rand(DAY));
  const log: Envelope[] = [];
  for (let i = 0; i < count; i += 1) {
    const n = seed * 1_000_000 + i;
    const request = uuid(n, 1);
    const grant = `${request}:ent-pg-orders-read`;
    switch (rand(10)) {
      case 0:
      case 1:
        log.push(e.grantCreated(grant, request, when(), { id: uuid(n, 2) }));
        if (rand(2) === 0) log.push(e.grantActivated(grant, request, when(), { id: uuid(n, 3) }));
        if (rand(5) === 0) log.push(e.grantRevoked(grant, request, { id: uuid(n, 4) }));
        break;
      case 2:
        log.push(e.grantCreated(`g${n}`, `r${n}`, when()));
        if (rand(4) === 0) log.push(e.grantRevoked(`g${n}`, `r${n}`));
        break;
      case 3:
        log.push(e.taskOpened(`t${n}`, `r${n}`, when(), 2));
        log.push(e.decision(`t${n}`, `r${n}`, 'carol', rand(3) === 0 ? 'deny' : 'approve'));
        break;
      case 4:
        log.push(e.requestApproved(`r${n}`, [{ grantId: `g${n}`, expiresAt: at(START + (fromDay + 90) * DAY) }], 'P7D', { time: when() }));
        log.push(e.grantCreated(`g${n}`, `r${n}`, at(START + (fromDay + 90) * DAY)));
        break;
      case 5:
        log.push(e.reviewOpened(`rev${n}`, `r${n}`, when()));
        break;
      case 6:
        log.push(transferOpened(`otr${n}`, `nhi${n % 50}`, when()));
        if (rand(3) === 0) log.push(ownerChanged(`nhi${n % 50}`));
        break;
      case 7:
        log.push(e.taskOpened(`t${n}`, `r${n}`, when(), 1));
        if (rand(2) === 0) log.push(e.requestDenied(`r${n}`));
        break;
      default: {
        const earlier = log[rand(Math.max(log.length, 1))];
        if (earlier) log.push(earlier);
      }
    }
  }
  return log;
}

/**
 * Folds `log` into each book and, every `every` events, fires what is due as the ticker would: every book must decide
 * the same firings, which then go into each (every book is asked alike: asking rearranges a heap's ties).
 */
function foldAndFire(books: readonly TimerBook[], log: readonly Envelope[], clock: { now: number }, every = 50): void {
  for (const [i, event] of log.entries()) {
    for (const book of books) codec.apply(book, event, POSITION);
    if (i % every === every - 1) {
      clock.now += DAY / 8;
      const now = new Date(clock.now);
      const firings = books.map((book) => book.fire(now, { eventId: specEventId }, 40));
      for (const other of firings.slice(1)) expect(other).toEqual(firings[0]);
      for (const firing of firings[0] ?? []) for (const book of books) codec.apply(book, firing, POSITION);
    }
  }
}

async function restored(frames: Iterable<Uint8Array>): Promise<TimerBook> {
  const book = codec.empty();
  await codec.decode([...frames], book);
  return book;
}

describe('timer book snapshot codec', () => {
  it(`is versioned ${TIMER_BOOK_SNAPSHOT_VERSION}`, () => {
    expect(codec.version).toBe('scheduler-timer-book/1');
  });

  it('given a book after a realistic history, when it is encoded and decoded into an empty book, then both are equal and answer alike', async () => {
    // Given
    const clock = { now: START };
    const original = codec.empty();
    foldAndFire([original], history(1, 3_000, 0), clock);
    const view = original.view();
    expect(view.fired.size).toBeGreaterThan(100);
    expect((view.timers as unknown as { wholeCount: number }).wholeCount).toBeGreaterThan(100);
    expect(view.timers.size - (view.timers as unknown as { wholeCount: number }).wholeCount).toBeGreaterThan(100);
    expect(view.tasks.size).toBeGreaterThan(10);
    expect(view.recertifications.size).toBeGreaterThan(10);
    expect(view.ownershipTransfers.size).toBeGreaterThan(10);
    expect(view.endedGrants.size).toBeGreaterThan(10);
    expect(view.endedTasks.size).toBeGreaterThan(10);

    // When
    const copy = await restored(codec.encode(original));

    // Then
    expect(copy).toEqual(original);
    expect([...codec.encode(copy)]).toEqual([...codec.encode(original)]);
    for (const days of [0, 10, 40, 400]) {
      const now = new Date(clock.now + days * DAY);
      expect(copy.due(now)).toEqual(original.due(now));
    }
    expect(copy.nextDueAt()).toEqual(original.nextDueAt());
    expect(copy.latestFiredAt()).toEqual(original.latestFiredAt());
    expect([copy.pendingCount, copy.firedCount, copy.columnBytes]).toEqual([original.pendingCount, original.firedCount, original.columnBytes]);
    expect(new Set(copy.view().applied)).toEqual(new Set(original.view().applied));
    expect(new Map(copy.view().timers)).toEqual(new Map(original.view().timers));
  });

  it('given a snapshot taken midway, when the rest of the log is folded into the live book and into the restored one, then they fire alike and end equal', async () => {
    // Given a book at the midpoint, and its snapshot through the same packing the store sees
    const clock = { now: START };
    const live = codec.empty();
    foldAndFire([live], history(2, 2_500, 0), clock);
    const packed = await packSnapshot([...codec.encode(live)], 64 * 1024);
    const copy = codec.empty();
    await codec.decode(await unpackSnapshot({ ...packed, chunks: packed.chunks.length }, packed.chunks), copy);

    // When the rest of the log (new events, redeliveries of old ones, firings) goes into both
    const rest = [...history(3, 2_500, 15), ...history(2, 400, 0)];
    foldAndFire([live, copy], rest, clock, 37);

    // Then every firing decided on the way was the same (foldAndFire compares), and the books are equal
    expect(copy).toEqual(live);
    const end = new Date(clock.now + 500 * DAY);
    expect(copy.due(end)).toEqual(live.due(end));
    expect(copy.fire(end, { eventId: specEventId })).toEqual(live.fire(end, { eventId: specEventId }));
  });

  it('given a compactor folding with codec.apply from an empty book, then its book equals the one the runtime folds with ingest', () => {
    const log = history(4, 2_000, 0);
    const folded = codec.empty();
    for (const event of log) codec.apply(folded, event, POSITION);
    const live = new TimerBook();
    live.applyAll(log);
    expect(folded).toEqual(live);
  });

  it('given an empty book, then it round-trips empty', async () => {
    const copy = await restored(codec.encode(codec.empty()));
    expect(copy).toEqual(new TimerBook());
    expect(copy.nextDueAt()).toBeUndefined();
  });

  describe('given frames that do not hold a book, when decoded, then it throws SnapshotUnusableError and the target stays empty', () => {
    const clock = { now: START };
    const book = codec.empty();
    foldAndFire([book], history(5, 800, 0), clock);
    const frames = [...codec.encode(book)];
    const replaced = (index: number, frame: Uint8Array): Uint8Array[] => frames.map((each, i) => (i === index ? frame : each));
    const header = JSON.parse(Buffer.from(frames[0] as Uint8Array).toString('utf8')) as Record<string, unknown>;
    const withHeader = (change: Record<string, unknown>): Uint8Array[] => replaced(0, Buffer.from(JSON.stringify({ ...header, ...change })));
    const heap = new Int32Array(Uint8Array.from(frames[10] as Uint8Array).buffer);
    const swappedHeap = Int32Array.from(heap);
    [swappedHeap[0], swappedHeap[1]] = [swappedHeap[1] as number, swappedHeap[0] as number];
    const dueFrame = frames[3] as Uint8Array;
    const transfers = firstSliceOf(frames, 'ownershipTransfers');

    it.each([
      ['no frames at all', []],
      ['a frame missing', frames.slice(0, -1)],
      ['a column cut short', replaced(3, dueFrame.subarray(0, dueFrame.length - 3))],
      ['a column of another length', replaced(3, dueFrame.subarray(0, dueFrame.length - 8))],
      ['a header that is not JSON', replaced(0, Buffer.from('{"layout":'))],
      ['a header of another layout', withHeader({ layout: 'rows' })],
      ['the other byte order', withHeader({ littleEndian: header['littleEndian'] !== true })],
      ['counts that disagree with the columns', withHeader({ heapSize: (header['heapSize'] as number) + 1 })],
      ['an id count that disagrees with the id table', withHeader({ appliedCount: (header['appliedCount'] as number) - 1 })],
      ['a heap whose positions disagree', replaced(10, new Uint8Array(swappedHeap.buffer))],
      ['a JSON part that is not JSON', replaced(transfers, Buffer.from('[["otr'))],
      ['a JSON part of another shape', replaced(transfers, Buffer.from('[{"identity":"nhi1"}]'))],
    ] as [string, Uint8Array[]][])('%s', async (_why, corrupt) => {
      const target = codec.empty();
      await expect(codec.decode(corrupt, target)).rejects.toThrow(SnapshotUnusableError);
      expect(target).toEqual(new TimerBook());
      // and the frames it was spoiled from restore
      expect(await restored(frames)).toEqual(book);
    });

    it('into a book that already holds something, leaving it as it was', async () => {
      const target = codec.empty();
      codec.apply(target, e.grantCreated('g-held', 'r-held', at(START + DAY)), POSITION);
      const before = target.copy();
      await expect(codec.decode(frames, target)).rejects.toThrow(SnapshotUnusableError);
      expect(target).toEqual(before);
    });
  });

  it('encodes and restores 50,000 grants quickly (measured)', async () => {
    const book = codec.empty();
    for (let i = 0; i < 50_000; i += 1) {
      const request = uuid(i, 1);
      book.apply(e.grantCreated(`${request}:ent-pg-orders-read`, request, at(START + (i % 30) * DAY + i), { id: uuid(i, 2) }));
    }
    const encodeStart = performance.now();
    const frames = [...codec.encode(book)];
    const encodeMs = performance.now() - encodeStart;
    const decodeStart = performance.now();
    const copy = await restored(frames);
    const decodeMs = performance.now() - decodeStart;
    expect(copy.pendingCount).toBe(50_000);
    expect(copy.due(new Date(START + 40 * DAY), 5)).toEqual(book.due(new Date(START + 40 * DAY), 5));
    const bytes = frames.reduce((sum, frame) => sum + frame.byteLength, 0);
    process.stdout.write(
      `scheduler snapshot: 50,000 grants in ${(bytes / 1_048_576).toFixed(1)} MiB of frames, encoded in ${encodeMs.toFixed(0)} ms, decoded in ${decodeMs.toFixed(0)} ms\n`,
    );
    // generous bound: catches a per-timer object graph or a rehash, not a slow machine
    expect(encodeMs + decodeMs).toBeLessThan(10_000);
  });
});
