import { createConnection } from 'mongoose';
import { mongoDatabaseUrl } from '@grantline/testing';
import type { GrantSet } from './grant-set';

const INSERT_CHUNK = 1_000;

export interface PollOutcome {
  readonly insertedPerSec: number;
  readonly loadMs: number;
  /** When the background load ended and polling began (the spike is placed after it). */
  readonly loadedAt: number;
  readonly spikeAt: number;
  /** How long each poll (find + mark) took, ms. */
  readonly pollMs: readonly number[];
  /** Time each grant was returned by a poll (NaN: never) and how often. */
  readonly emittedAt: Float64Array;
  readonly count: Uint8Array;
  readonly armedAt: Float64Array;
  readonly stoppedAt: number;
  readonly spikeCleared: boolean;
}

/**
 * The naive design the scheduler is measured against: the grants as documents in the local MongoDB-wire store, and a
 * poll every second — `find({ expiresAt: { $lte: now }, fired: false })`, then the same filter's `updateMany` marks
 * them fired. A grant is emitted when the poll that returns it comes back. An index on `expiresAt` is created (the
 * store may not use it: FerretDB v1 on SQLite scans, ADR 0014).
 */
export async function runNaivePoll(
  grants: GrantSet,
  options: { readonly database: string; readonly spikeMarginMs: (insertedPerSec: number) => number; readonly windowMs: number; readonly timeoutMs: number },
  say: (line: string) => void,
): Promise<PollOutcome> {
  const connection = await createConnection(mongoDatabaseUrl(options.database)).asPromise();
  const emittedAt = new Float64Array(grants.size).fill(Number.NaN);
  const armedAt = new Float64Array(grants.size).fill(Number.NaN);
  const count = new Uint8Array(grants.size);
  try {
    const collection = connection.collection<{ _id: string; expiresAt: Date; fired: boolean }>('grants');
    await collection.createIndex({ expiresAt: 1 });
    const insert = async (from: number, to: number): Promise<void> => {
      for (let i = from; i < to; i += INSERT_CHUNK) {
        const end = Math.min(to, i + INSERT_CHUNK);
        const docs = [];
        for (let j = i; j < end; j += 1) docs.push({ _id: grants.grantIdOf(j), expiresAt: new Date(grants.expiresAt[j] as number), fired: false });
        await collection.insertMany(docs, { ordered: false });
        armedAt.fill(Date.now(), i, end);
      }
    };
    const loadStart = Date.now();
    grants.placeBackground(loadStart);
    await insert(grants.ranges.uniform.from, grants.ranges.long.to);
    const loadedAt = Date.now();
    const loadMs = loadedAt - loadStart;
    const insertedPerSec = Math.round(((grants.ranges.long.to - grants.ranges.uniform.from) / loadMs) * 1000);
    say(`baseline: ${grants.ranges.long.to} documents inserted in ${(loadMs / 1000).toFixed(1)} s (${insertedPerSec}/s); polling every second`);

    const pollMs: number[] = [];
    let polling = true;
    const poller = (async () => {
      while (polling) {
        const started = Date.now();
        const filter = { expiresAt: { $lte: new Date(started) }, fired: false };
        const due = await collection.find(filter, { projection: { _id: 1 } }).toArray();
        const returned = Date.now();
        for (const doc of due) {
          const index = grants.indexOf(doc._id);
          if (index < 0) continue;
          if (count[index] === 0) emittedAt[index] = returned;
          count[index] = Math.min(255, (count[index] as number) + 1);
        }
        if (due.length > 0) await collection.updateMany(filter, { $set: { fired: true } });
        pollMs.push(Date.now() - started);
        const wait = started + 1_000 - Date.now();
        if (wait > 0 && polling) await new Promise((resolve) => setTimeout(resolve, wait));
      }
    })();

    const spikeAt = Date.now() + options.spikeMarginMs(insertedPerSec);
    grants.place('spike', spikeAt);
    // Not awaited: on FerretDB the inserts can wait behind a poll's scan for minutes, and the time limit still holds.
    let inserted = false;
    const spikeInsert = insert(grants.ranges.spike.from, grants.ranges.spike.to).then(() => {
      inserted = true;
      const lateBy = Date.now() - spikeAt;
      if (lateBy > 0) say(`baseline: WARNING the spike was inserted ${lateBy} ms after it was due`);
    });
    spikeInsert.catch(() => undefined);
    const spike = grants.ranges.spike;
    const deadline = spikeAt + options.timeoutMs;
    let cleared = false;
    for (;;) {
      let fired = 0;
      for (let i = spike.from; i < spike.to; i += 1) if ((count[i] as number) > 0) fired += 1;
      cleared = fired === spike.to - spike.from;
      if ((cleared && Date.now() >= spikeAt + options.windowMs) || Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    polling = false;
    const stoppedAt = Date.now();
    if (!inserted) say('baseline: the spike was still being inserted when the time was up');
    // A poll still scanning when time is up is not waited for (on FerretDB one can take minutes); closing the
    // connection below ends it, and what it would have returned is not counted.
    const settled = await Promise.race([poller.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 5_000))]);
    if (!settled) {
      poller.catch(() => undefined);
      say(`baseline: a poll was still running ${Math.round((Date.now() - stoppedAt) / 1000)} s after the time was up; abandoned`);
    }
    return { insertedPerSec, loadMs, loadedAt, spikeAt, pollMs, emittedAt, count, armedAt, stoppedAt, spikeCleared: cleared };
  } finally {
    await connection.dropDatabase().catch(() => undefined);
    await connection.close();
  }
}
