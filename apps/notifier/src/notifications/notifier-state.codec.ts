import { SnapshotUnusableError, decodeJsonParts, encodeJsonParts, isObject, pairsOf, stringsOf } from '@grantline/messaging';
import type { StateSnapshotCodec } from '@grantline/messaging';
import { NotifierState } from '../domain';
import type { NotifierStateParts } from '../domain';

const PARTS = ['breakGlass', 'reviews', 'grants', 'requested', 'reconciliations', 'detections'] as const;

/** A part of instant lists (per connector, per drift finding), checked to be lists of strings. */
function instantListsOf(part: readonly unknown[], name: string): [string, string[]][] {
  const lists = pairsOf<unknown>(part, name, Array.isArray);
  for (const [key, list] of lists) {
    if (!Array.isArray(list) || list.some((instant) => typeof instant !== 'string'))
      throw new SnapshotUnusableError(`its ${name} of ${key} is not a list of instants`);
  }
  return lists as [string, string[]][];
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
  decode: async (frames, into) => {
    // Everything is read and checked before `into` is touched: a bad snapshot leaves it as it was.
    const parts = await decodeJsonParts(frames, PARTS);
    const restored: NotifierStateParts = {
      breakGlass: pairsOf(parts.breakGlass, 'breakGlass', isObject),
      reviews: pairsOf(parts.reviews, 'reviews', isObject),
      grants: pairsOf(parts.grants, 'grants', isObject),
      requested: stringsOf(parts.requested, 'requested'),
      reconciliations: instantListsOf(parts.reconciliations, 'reconciliations'),
      detections: instantListsOf(parts.detections, 'detections'),
    };
    into.restore(restored);
  },
};
