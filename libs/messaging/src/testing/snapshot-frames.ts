/**
 * For codec specs: where the parts `encodeJsonParts` wrote lie among a snapshot's frames (a marker frame, its slices,
 * an end frame), so a spec can cut, corrupt or count them.
 */

/** Where a part's marker frame lies; its slices follow it, up to the next marker. */
export function markerOf(frames: readonly Uint8Array[], part: string): number {
  const marker = JSON.stringify({ part });
  const at = frames.findIndex((frame) => Buffer.from(frame).toString('utf8') === marker);
  if (at < 0) throw new Error(`the frames hold no part ${part}`);
  return at;
}

/** Where the first slice of a part lies: right after its marker frame. */
export function firstSliceOf(frames: readonly Uint8Array[], part: string): number {
  const at = markerOf(frames, part) + 1;
  if (frames[at]?.[0] !== '['.charCodeAt(0)) throw new Error(`the frames hold no slice of part ${part}`);
  return at;
}

/** How many slices a part was written in: the frames from its marker up to the next marker (or the end). */
export function slicesOf(frames: readonly Uint8Array[], part: string): number {
  const from = markerOf(frames, part) + 1;
  const next = frames.findIndex((frame, i) => i >= from && frame[0] === '{'.charCodeAt(0));
  return (next < 0 ? frames.length : next) - from;
}
