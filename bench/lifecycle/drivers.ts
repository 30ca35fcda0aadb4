import { GrantActivated, GrantCreated, GrantProvisioningFailed, GrantRevoked, TOPICS, isEvent } from '@grantline/contracts';
import type { Envelope } from '@grantline/contracts';
import type { KafkaMessageBus, RunningConsumer } from '@grantline/messaging';

/** One submission: `intendedAt` is when it was due (open loop) or sent (closed loop); `ackAt` its answer. */
export interface Sent {
  readonly key: string;
  readonly intendedAt: number;
  ackAt?: number;
  error?: string;
}

export type Send = (key: string) => Promise<void>;

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function track(sent: Sent, send: Send): Promise<void> {
  try {
    await send(sent.key);
  } catch (error) {
    sent.error = error instanceof Error ? error.message : String(error);
  }
  sent.ackAt = performance.now();
}

/** C clients, each sending its next key when the previous one was answered: the highest rate the edge accepts. */
export async function closedLoop(keys: readonly string[], concurrency: number, send: Send): Promise<Sent[]> {
  const results: Sent[] = [];
  let next = 0;
  const client = async (): Promise<void> => {
    while (next < keys.length) {
      const sent: Sent = { key: keys[next++] as string, intendedAt: performance.now() };
      results.push(sent);
      await track(sent, send);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, keys.length)) }, client));
  return results;
}

/**
 * A fixed schedule, whatever the answers: key i is due at start + i/rate and is sent then even if earlier ones are
 * still open. Latencies are taken from the due time, so a bench (or a platform) that falls behind is charged for
 * the wait instead of silently sending later (coordinated omission).
 */
export async function openLoop(keys: readonly string[], ratePerSecond: number, send: Send): Promise<Sent[]> {
  const results: Sent[] = [];
  const open: Promise<void>[] = [];
  const start = performance.now() + 10;
  const interval = 1000 / ratePerSecond;
  for (let i = 0; i < keys.length; i += 1) {
    const intendedAt = start + i * interval;
    const wait = intendedAt - performance.now();
    if (wait >= 1) await pause(wait);
    const sent: Sent = { key: keys[i] as string, intendedAt };
    results.push(sent);
    open.push(track(sent, send));
  }
  await Promise.all(open);
  return results;
}

/**
 * Reads the platform's grants topic and timestamps, per beneficiary, when provisioning recorded the grant active
 * (`grant.activated`: the connector's GRANT succeeded) or revoked (`grant.revoked`: its REVOKE succeeded). Keyed by
 * beneficiary because an ITSM ticket's request id is the intake's to derive; every request has its own beneficiary.
 */
export class GrantWatcher {
  readonly activatedAt = new Map<string, number>();
  readonly revokedAt = new Map<string, number>();
  readonly failed = new Map<string, string>();
  readonly grantOf = new Map<string, string>();
  /** How long after the event's own time the bench saw it (consumer fetch delay), ms. */
  readonly observerDelayMs: number[] = [];
  private readonly beneficiaryOf = new Map<string, string>();
  private early: Envelope[] = [];
  private consumer?: RunningConsumer;

  constructor(private readonly bus: KafkaMessageBus) {}

  async start(): Promise<void> {
    await this.bus.ensureTopics([{ topic: TOPICS.grants }]);
    this.consumer = await this.bus.consume({
      groupId: 'bench-grant-watcher',
      topics: [TOPICS.grants],
      fromBeginning: true,
      partitionsConsumedConcurrently: 4,
      handler: async (event) => this.onEvent(event, performance.now()),
    });
  }

  private onEvent(event: Envelope, seenAt: number): void {
    if (isEvent(event, GrantCreated)) {
      this.beneficiaryOf.set(event.data.grantId, event.data.beneficiaryId);
      this.grantOf.set(event.data.beneficiaryId, event.data.grantId);
      // Created and activated share the grant's key, so this only helps if a producer ever keyed them apart.
      const waiting = this.early.filter((e) => (e.data as { grantId: string }).grantId === event.data.grantId);
      this.early = this.early.filter((e) => !waiting.includes(e));
      for (const early of waiting) this.onEvent(early, seenAt);
      return;
    }
    const grantId = (event.data as { grantId?: unknown }).grantId;
    if (typeof grantId !== 'string') return;
    const beneficiary = this.beneficiaryOf.get(grantId);
    const relevant = isEvent(event, GrantActivated) || isEvent(event, GrantRevoked) || (isEvent(event, GrantProvisioningFailed) && event.data.terminal);
    if (!relevant) return;
    if (beneficiary === undefined) {
      this.early.push(event);
      return;
    }
    if (isEvent(event, GrantActivated)) {
      this.activatedAt.set(beneficiary, seenAt);
      this.observerDelayMs.push(Date.now() - Date.parse(event.time));
    } else if (isEvent(event, GrantRevoked)) this.revokedAt.set(beneficiary, seenAt);
    else this.failed.set(beneficiary, String((event.data as { reason?: unknown }).reason ?? 'provisioning failed'));
  }

  /** Waits until every key is in `seen` (or failed terminally); returns the keys still missing after the timeout. */
  async waitFor(keys: readonly string[], seen: Map<string, number>, timeoutMs: number): Promise<string[]> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const missing = keys.filter((key) => !seen.has(key) && !this.failed.has(key));
      if (missing.length === 0 || performance.now() > deadline) return missing;
      await pause(20);
    }
  }

  async stop(): Promise<void> {
    await this.consumer?.stop();
  }
}
