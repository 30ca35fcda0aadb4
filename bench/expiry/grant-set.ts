import { GrantActivated, GrantCreated, grantIdOf, registry } from '@grantline/contracts';
import type { Envelope } from '@grantline/contracts';

const DAY_MS = 86_400_000;
export const ENTITLEMENT = 'ent-orders-staging-read';

/** Which part of the population a grant belongs to; each is measured apart as well as together. */
export type Cohort = 'uniform' | 'long' | 'spike' | 'outage';

/**
 * The grants of one run, as columns (a million objects would weigh on the bench's own heap and GC, which shares the
 * two cores with the scheduler it measures). `expiresAt` is absolute; it is filled in when the cohort is loaded,
 * because the spike and outage grants are placed relative to when loading ended.
 */
export class GrantSet {
  readonly size: number;
  readonly expiresAt: Float64Array;
  readonly cohort: Uint8Array;
  private readonly prefix: string;
  readonly ranges: Readonly<Record<Cohort, { readonly from: number; readonly to: number }>>;

  constructor(
    runId: string,
    readonly counts: Readonly<Record<Cohort, number>>,
  ) {
    this.size = counts.uniform + counts.long + counts.spike + counts.outage;
    this.expiresAt = new Float64Array(this.size);
    this.cohort = new Uint8Array(this.size);
    // 8 hex digits of the run, then the index: a UUID-shaped request id, as intake mints them.
    this.prefix = `${runId
      .replace(/[^0-9a-f]/g, '')
      .padEnd(8, '0')
      .slice(0, 8)}-0000-4000-8000-`;
    let from = 0;
    const ranges = {} as Record<Cohort, { from: number; to: number }>;
    (['uniform', 'long', 'spike', 'outage'] as const).forEach((cohort, code) => {
      ranges[cohort] = { from, to: from + counts[cohort] };
      this.cohort.fill(code, from, from + counts[cohort]);
      from += counts[cohort];
    });
    this.ranges = ranges;
  }

  static cohortName(code: number): Cohort {
    return (['uniform', 'long', 'spike', 'outage'] as const)[code] ?? 'uniform';
  }

  requestIdOf(index: number): string {
    return `${this.prefix}${index.toString(16).padStart(12, '0')}`;
  }

  grantIdOf(index: number): string {
    return grantIdOf(this.requestIdOf(index), ENTITLEMENT);
  }

  /** The index of a grant id of this set, or -1. */
  indexOf(grantId: string): number {
    if (!grantId.startsWith(this.prefix)) return -1;
    const index = Number.parseInt(grantId.slice(this.prefix.length, this.prefix.length + 12), 16);
    return Number.isInteger(index) && index < this.size ? index : -1;
  }

  /**
   * Uniform over 30 days from `from` for the uniform cohort, 400 days (± a day) for the long one; a pseudo-random
   * sequence of its own, so both variants of a run (and two runs) place the same grants at the same offsets.
   */
  placeBackground(from: number): void {
    let seed = 0x2545f491;
    const next = (): number => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) / 0x1_0000_0000;
    };
    for (let i = this.ranges.uniform.from; i < this.ranges.uniform.to; i += 1) this.expiresAt[i] = Math.floor(from + next() * 30 * DAY_MS);
    for (let i = this.ranges.long.from; i < this.ranges.long.to; i += 1) this.expiresAt[i] = Math.floor(from + (399 + 2 * next()) * DAY_MS);
  }

  /** Every grant of the cohort in the same millisecond `at` (the spike), or spread evenly over [at, at + spreadMs). */
  place(cohort: Cohort, at: number, spreadMs = 0): void {
    const { from, to } = this.ranges[cohort];
    for (let i = from; i < to; i += 1) this.expiresAt[i] = at + (spreadMs === 0 ? 0 : Math.floor(((i - from) * spreadMs) / Math.max(1, to - from)));
  }
}

/**
 * The facts provisioning publishes for an active grant, `iga.grant.created` then `iga.grant.activated`, keyed by the
 * request. The first of each type is encoded (validated) by the registry; the rest are that envelope with its ids,
 * times and data replaced, so building two million does not cost the bench a zod parse each.
 */
export function grantFactsBuilder(): (set: GrantSet, index: number) => [Envelope, Envelope] {
  const created = registry.encode(
    GrantCreated,
    {
      grantId: 'template',
      requestId: 'template',
      beneficiaryId: 'template',
      entitlementId: ENTITLEMENT,
      systemId: 'pg-orders-staging',
      connectorId: 'postgres',
      targetAccount: 'template',
      expiresAt: new Date(0).toISOString(),
      breakGlass: false,
      decisionId: 'template',
    },
    {
      id: 'template',
      source: 'grantline/provisioning',
      time: new Date(0).toISOString(),
      subject: 'template',
      correlationid: 'template',
      actor: { kind: 'system', id: 'provisioning' },
    },
  );
  const activated = registry.encode(
    GrantActivated,
    { grantId: 'template', activatedAt: new Date(0).toISOString(), expiresAt: new Date(0).toISOString() },
    {
      id: 'template',
      source: 'grantline/provisioning',
      time: new Date(0).toISOString(),
      subject: 'template',
      correlationid: 'template',
      actor: { kind: 'system', id: 'provisioning' },
    },
  );
  return (set, index) => {
    const requestId = set.requestIdOf(index);
    const grantId = set.grantIdOf(index);
    const expiresAt = new Date(set.expiresAt[index] as number).toISOString();
    const now = new Date().toISOString();
    const id = requestId.slice(0, -12);
    const serial = index.toString(16).padStart(11, '0');
    const beneficiaryId = `bench-user-${index}`;
    return [
      {
        ...created,
        id: `${id}c${serial}`,
        time: now,
        subject: requestId,
        correlationid: requestId,
        causationid: `${id}d${serial}`,
        data: { ...(created.data as object), grantId, requestId, beneficiaryId, targetAccount: `u_${index}`, expiresAt, decisionId: `dec-${requestId}` },
      },
      {
        ...activated,
        id: `${id}a${serial}`,
        time: now,
        subject: requestId,
        correlationid: requestId,
        causationid: `${id}c${serial}`,
        data: { grantId, activatedAt: now, expiresAt },
      },
    ];
  };
}
