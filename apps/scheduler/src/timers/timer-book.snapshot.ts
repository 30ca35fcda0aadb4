import { z } from 'zod';
import type { Envelope } from '@grantline/contracts';
import { SnapshotUnusableError, decodeJsonParts, encodeJsonParts, fromJsonFrame, jsonFrame } from '@grantline/messaging';
import type { StateSnapshotCodec } from '@grantline/messaging';
import type { PendingTimer } from '../domain/scheduler.state';
import { TimerBook } from '../domain/timer-book';
import type { TimerBookSnapshot } from '../domain/timer-book';

/**
 * The scheduler's timer book in a snapshot (ADR 0037). A million grants are mostly typed columns (ADR 0023), so
 * those go as binary frames, their bytes as they lie: restoring them is a copy per column, with no rehash, no
 * re-heapify and no string per timer. The rest (interned suffixes, timers kept whole, ids that are not UUIDs,
 * tombstones, tasks, recertification plans, transfer cases) goes as JSON parts in slices.
 *
 * Bump the version whenever the fold (scheduler.evolve, TimerBook.apply) or this layout changes: a snapshot of
 * another version is never restored, the log is replayed from the beginning instead.
 */
export const TIMER_BOOK_SNAPSHOT_VERSION = 'scheduler-timer-book/1';

/** The binary frames after the header, in this order; each is one typed array's bytes. */
const COLUMNS = ['kindOf', 'flags', 'due', 'request', 'cause', 'suffixOf', 'position', 'freeSlots', 'table', 'heap', 'appliedWords'] as const;
type Column = (typeof COLUMNS)[number];
type TypedColumn = Uint8Array<ArrayBuffer> | Uint32Array<ArrayBuffer> | Int32Array<ArrayBuffer> | Float64Array<ArrayBuffer>;

const PARTS = [
  'suffixes',
  'whole',
  'appliedOthers',
  'fired',
  'endedGrants',
  'endedTasks',
  'tasks',
  'tasksByRequest',
  'recertifications',
  'ownershipTransfers',
] as const;

/** Typed arrays are read and written in the machine's byte order: a snapshot taken on another order is not used. */
const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

const HeaderSchema = z.strictObject({
  layout: z.literal('columns'),
  littleEndian: z.boolean(),
  kinds: z.array(z.string()),
  slots: z.number().int().nonnegative(),
  compactCount: z.number().int().nonnegative(),
  heapSize: z.number().int().nonnegative(),
  appliedCount: z.number().int().nonnegative(),
  latestFiring: z.number().nullable(),
});
type Header = z.infer<typeof HeaderSchema>;

const Strings = z.array(z.string());
const TargetSchema = z.strictObject({
  grantId: z.string().optional(),
  requestId: z.string().optional(),
  taskId: z.string().optional(),
  reviewId: z.string().optional(),
  transferId: z.string().optional(),
  identityId: z.string().optional(),
  campaignId: z.string().optional(),
});
// The kind is the one the book held (TimerIndex checks it against its kind table); a string here.
const PendingTimerSchema = z.strictObject({
  timerId: z.string(),
  kind: z.string(),
  dueAt: z.number(),
  target: TargetSchema,
  subject: z.string(),
  correlationId: z.string(),
  causationId: z.string(),
});
const PartsSchema = z.strictObject({
  suffixes: Strings,
  whole: z.array(z.tuple([z.number().int().nonnegative(), PendingTimerSchema])),
  appliedOthers: Strings,
  fired: Strings,
  endedGrants: Strings,
  endedTasks: Strings,
  tasks: z.array(z.tuple([z.string(), z.strictObject({ requestId: z.string(), quorum: z.number(), approverIds: Strings })])),
  tasksByRequest: z.array(z.tuple([z.string(), Strings])),
  recertifications: z.array(
    z.tuple([
      z.string(),
      z.strictObject({ grantId: z.string(), requestId: z.string(), anchorAt: z.number(), everyMs: z.number(), expiresAt: z.number(), causationId: z.string() }),
    ]),
  ),
  ownershipTransfers: z.array(z.tuple([z.string(), z.string()])),
});

/** The bytes of a typed array (a copy already: `toSnapshot` copies). */
function bytesOf(column: TypedColumn): Uint8Array {
  return new Uint8Array(column.buffer, column.byteOffset, column.byteLength);
}

/** A frame back as a typed array: copied, since a frame inside the unpacked stream need not be aligned for it. */
function columnOf<T extends TypedColumn>(frames: readonly Uint8Array[], name: Column, make: (length: number) => T): T {
  const frame = frames[1 + COLUMNS.indexOf(name)];
  if (frame === undefined) throw new SnapshotUnusableError(`its ${name} column is missing`);
  const width = make(0).BYTES_PER_ELEMENT;
  if (frame.byteLength % width !== 0) throw new SnapshotUnusableError(`its ${name} column is cut short (${frame.byteLength} bytes)`);
  const column = make(frame.byteLength / width);
  new Uint8Array(column.buffer).set(frame);
  return column;
}

function encode(book: TimerBook): Uint8Array[] {
  const snapshot = book.toSnapshot();
  const { timers, applied } = snapshot;
  const header: Header = {
    layout: 'columns',
    littleEndian: LITTLE_ENDIAN,
    kinds: [...timers.kinds],
    slots: timers.slots,
    compactCount: timers.compactCount,
    heapSize: timers.heapSize,
    appliedCount: applied.compactCount,
    latestFiring: snapshot.latestFiring ?? null,
  };
  const columns: Record<Column, TypedColumn> = {
    kindOf: timers.kindOf,
    flags: timers.flags,
    due: timers.due,
    request: timers.request,
    cause: timers.cause,
    suffixOf: timers.suffixOf,
    position: timers.position,
    freeSlots: timers.freeSlots,
    table: timers.table,
    heap: timers.heap,
    appliedWords: applied.words,
  };
  // Read now, in this call: the sets and maps are the book's own (see TimerBookSnapshot).
  const parts = encodeJsonParts({
    suffixes: timers.suffixes,
    whole: timers.whole.entries(),
    appliedOthers: applied.others,
    fired: snapshot.fired,
    endedGrants: snapshot.endedGrants,
    endedTasks: snapshot.endedTasks,
    tasks: snapshot.tasks,
    tasksByRequest: snapshot.tasksByRequest,
    recertifications: snapshot.recertifications,
    ownershipTransfers: snapshot.ownershipTransfers,
  } satisfies Record<(typeof PARTS)[number], Iterable<unknown>>);
  return [jsonFrame(header), ...COLUMNS.map((name) => bytesOf(columns[name])), ...parts];
}

async function decode(frames: readonly Uint8Array[], into: TimerBook): Promise<void> {
  let snapshot: TimerBookSnapshot;
  try {
    const header = HeaderSchema.parse(fromJsonFrame(frames[0]));
    if (header.littleEndian !== LITTLE_ENDIAN) throw new SnapshotUnusableError('it was written on a machine of the other byte order');
    const bytes = (name: Column): Uint8Array<ArrayBuffer> => columnOf(frames, name, (n) => new Uint8Array(n));
    const words = (name: Column): Uint32Array<ArrayBuffer> => columnOf(frames, name, (n) => new Uint32Array(n));
    const ints = (name: Column): Int32Array<ArrayBuffer> => columnOf(frames, name, (n) => new Int32Array(n));
    const raw = await decodeJsonParts(frames.slice(1 + COLUMNS.length), PARTS);
    // Checked, then kept as JSON gave them: zod's output lists an object's keys in its schema's order, and a timer's
    // target goes into its firing as it lies (a restored book fires byte for byte what a replayed one fires).
    PartsSchema.parse(raw);
    const parts = raw as unknown as z.infer<typeof PartsSchema>;
    snapshot = {
      timers: {
        kinds: header.kinds,
        suffixes: parts.suffixes,
        kindOf: bytes('kindOf'),
        flags: bytes('flags'),
        due: columnOf(frames, 'due', (n) => new Float64Array(n)),
        request: words('request'),
        cause: words('cause'),
        suffixOf: words('suffixOf'),
        position: ints('position'),
        slots: header.slots,
        freeSlots: ints('freeSlots'),
        table: ints('table'),
        compactCount: header.compactCount,
        heap: ints('heap'),
        heapSize: header.heapSize,
        whole: new Map(parts.whole as [number, PendingTimer][]),
      },
      applied: { words: words('appliedWords'), compactCount: header.appliedCount, others: parts.appliedOthers },
      fired: parts.fired,
      endedGrants: parts.endedGrants,
      endedTasks: parts.endedTasks,
      tasks: parts.tasks,
      tasksByRequest: parts.tasksByRequest,
      recertifications: parts.recertifications,
      ownershipTransfers: parts.ownershipTransfers,
      latestFiring: header.latestFiring ?? undefined,
    };
  } catch (error) {
    throw error instanceof SnapshotUnusableError ? error : new SnapshotUnusableError(`its frames do not hold a timer book: ${String(error)}`);
  }
  try {
    // Checks everything before it changes the book: a snapshot it refuses leaves the book empty.
    into.restore(snapshot);
  } catch (error) {
    throw new SnapshotUnusableError(`its timer book is inconsistent: ${String(error)}`);
  }
}

/**
 * The scheduler's codec: `apply` is TimerBook.apply, the fold the runtime's replay and live handlers use
 * (SchedulerRuntime.ingest), so the compactor's book equals the live one.
 */
export const timerBookSnapshotCodec: StateSnapshotCodec<TimerBook> = {
  version: TIMER_BOOK_SNAPSHOT_VERSION,
  empty: () => new TimerBook(),
  apply: (book: TimerBook, event: Envelope) => void book.apply(event),
  encode,
  decode,
};
