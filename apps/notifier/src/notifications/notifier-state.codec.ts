import { SnapshotUnusableError, decodeJsonParts, encodeJsonParts } from '@grantline/messaging';
import type { StateSnapshotCodec } from '@grantline/messaging';
import { NotifierState } from '../domain';
import type { NotifierStateParts } from '../domain';

const PARTS = ['breakGlass', 'reviews', 'grants', 'requested', 'reconciliations', 'detections'] as const;

/** A part of map entries, checked to be `[key, value]` pairs before any of it reaches the state. */
function entriesOf<V>(part: readonly unknown[], name: string): [string, V][] {
  for (const entry of part) {
    if (!Array.isArray(entry) || entry.length !== 2 || typeof entry[0] !== 'string' || typeof entry[1] !== 'object' || entry[1] === null) {
      throw new SnapshotUnusableError(`its ${name} part holds an entry that is not a [key, value] pair`);
    }
  }
  return part as [string, V][];
}

/** A part of instant lists (per connector, per drift finding), checked to be lists of strings. */
function instantListsOf(part: readonly unknown[], name: string): [string, string[]][] {
  const lists = entriesOf<unknown>(part, name);
  for (const [key, list] of lists) {
    if (!Array.isArray(list) || list.some((instant) => typeof instant !== 'string'))
      throw new SnapshotUnusableError(`its ${name} of ${key} is not a list of instants`);
  }
  return lists as [string, string[]][];
}

function stringsOf(part: readonly unknown[], name: string): string[] {
  if (part.some((entry) => typeof entry !== 'string')) throw new SnapshotUnusableError(`its ${name} part holds an entry that is not a string`);
  return part as string[];
}

/**
 * The notifier state in a snapshot (ADR 0037): its maps and the notification ids requested as JSON entries in slices
 * (`encodeJsonParts`), so the ids of years of notifications never make one string. Every value it holds is plain
 * JSON (strings and records of strings).
 *
 * Bump `version` whenever the fold changes (NotifierState.apply: what it keeps of a fact, how many instants it
 * remembers, how it normalises them) or the encoding does (a part, a field of a value, how a part is checked): a
 * snapshot of another version is never restored, the log is replayed from the beginning instead.
 */
export const notifierStateCodec: StateSnapshotCodec<NotifierState> = {
  version: 'notifier-state/1',
  empty: () => new NotifierState(),
  // The very method the replay folds with (ReplayedStateService.applyReplayed → state.apply), so the compactor's
  // state is the live one.
  apply: (state, event) => state.apply(event),
  encode: (state) => encodeJsonParts(state.parts()),
  decode: (frames, into) => {
    // Everything is read and checked before `into` is touched: a bad snapshot leaves it as it was.
    const parts = decodeJsonParts(frames, PARTS);
    const restored: NotifierStateParts = {
      breakGlass: entriesOf(parts.breakGlass, 'breakGlass'),
      reviews: entriesOf(parts.reviews, 'reviews'),
      grants: entriesOf(parts.grants, 'grants'),
      requested: stringsOf(parts.requested, 'requested'),
      reconciliations: instantListsOf(parts.reconciliations, 'reconciliations'),
      detections: instantListsOf(parts.detections, 'detections'),
    };
    into.restore(restored);
  },
};
