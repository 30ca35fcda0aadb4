import type { KafkaMessageBus } from '@grantline/messaging';
import type { GrantSet } from './grant-set';

/**
 * Every `iga.timer.fired` (grant_expiry) on the run's schedule topic, read raw (no zod parse: the bench must not fall
 * behind a 100k burst) from where the last read ended. A firing's emission time is its record's timestamp on the
 * log (the producer's create time, set as the scheduler sends it), so how fast the bench reads does not count.
 */
export class FiringLog {
  /** Emission time (ms) of each grant's first firing; NaN while not fired. */
  readonly emittedAt: Float64Array;
  /** `firedAt` the scheduler put in the event (its clock at the decision). */
  readonly firedAt: Float64Array;
  readonly count: Uint8Array;
  duplicates = 0;
  /** Firings whose dueAt is not the expiresAt the grant was published with, or whose grant is not of this run. */
  mismatched = 0;
  foreign = 0;
  total = 0;
  private readonly from: Record<number, string> = {};

  constructor(
    private readonly bus: KafkaMessageBus,
    private readonly topic: string,
    private readonly grants: GrantSet,
  ) {
    this.emittedAt = new Float64Array(grants.size).fill(Number.NaN);
    this.firedAt = new Float64Array(grants.size).fill(Number.NaN);
    this.count = new Uint8Array(grants.size);
  }

  /** Reads what was appended since the last call; returns how many firings it found. */
  async poll(): Promise<number> {
    let found = 0;
    await this.bus.replayRaw({
      topics: [this.topic],
      from: { [this.topic]: this.from },
      batchHandler: async (records, { partition }) => {
        for (const record of records) {
          this.from[partition] = (BigInt(record.offset) + 1n).toString();
          if (record.value === null) continue;
          const event = JSON.parse(record.value.toString('utf8')) as {
            data?: { kind?: string; dueAt?: string; firedAt?: string; target?: { grantId?: string } };
          };
          const data = event.data;
          if (data?.kind !== 'grant_expiry' || data.target?.grantId === undefined) continue;
          found += 1;
          this.total += 1;
          const index = this.grants.indexOf(data.target.grantId);
          if (index < 0) {
            this.foreign += 1;
            continue;
          }
          if (Date.parse(data.dueAt ?? '') !== this.grants.expiresAt[index]) this.mismatched += 1;
          const seen = this.count[index] as number;
          this.count[index] = Math.min(255, seen + 1);
          if (seen > 0) {
            this.duplicates += 1;
            continue;
          }
          this.emittedAt[index] = Date.parse(record.timestamp);
          this.firedAt[index] = Date.parse(data.firedAt ?? '');
        }
      },
    });
    return found;
  }

  /** Polls until `done()` holds or `timeoutMs` passed; returns whether it held. */
  async until(done: () => boolean, timeoutMs: number, everyMs = 500): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      await this.poll();
      if (done()) return true;
      if (Date.now() > deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
  }

  firedIn(from: number, to: number): number {
    let fired = 0;
    for (let i = from; i < to; i += 1) if ((this.count[i] as number) > 0) fired += 1;
    return fired;
  }
}
