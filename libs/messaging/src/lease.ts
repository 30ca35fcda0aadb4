import { RetriableError } from './errors';

/**
 * The lease seam: one active instance of a service at a time (ADR 0012). Services that rebuild their state by
 * replay and follow every partition split that state when two instances consume, so a second instance campaigns
 * for the lease and waits as a standby. The Kafka implementation holds the lease through the broker itself
 * (`KafkaLeaseElector`); `InProcessLeaseElector` is the trivial one for specs.
 */

/**
 * - `standby`: campaigning; another instance holds the lease (or nobody has been chosen yet).
 * - `held`: this instance is the active one, until the time `validUntil` says unless the holder hears from the
 *   coordinator again.
 * - `lost`: it held the lease and can no longer be sure it does; terminal. Whoever acted on the lease stops at once.
 * - `released`: given up on purpose (the service stops); terminal.
 */
export type LeaseState = 'standby' | 'held' | 'lost' | 'released';

export interface LeaseStatus {
  readonly name: string;
  readonly instanceId: string;
  readonly state: LeaseState;
  /** ISO time of the last change of state. */
  readonly since: string;
  /** While held: the ISO time until which no other instance can have been given the lease. */
  readonly validUntil?: string;
  /** `lost`: why. `standby`: the last failure to campaign (a broker away, a bad session timeout), if any. */
  readonly reason?: string;
}

export interface CampaignOptions {
  /** What the lease is for: the service name (`provisioning`). One lease per name and namespace. */
  readonly name: string;
  /** This instance, in logs and in the lease metadata (host and pid by default in the service kit). */
  readonly instanceId: string;
}

export type LeaseLostListener = (reason: string) => void;

export interface Lease {
  readonly name: string;
  readonly instanceId: string;
  status(): LeaseStatus;
  /**
   * Held now, judged by the clock and not only by the last event: false as soon as the time the coordinator
   * guarantees has run out, even when the timer that turns the state to `lost` has not run yet (a busy event loop).
   */
  isHeld(): boolean;
  /** Resolves once this instance holds the lease, however long that takes; rejects with LeaseNotHeldError when it is released or lost first. */
  whenAcquired(): Promise<void>;
  /**
   * Called once, synchronously, when a held lease is lost: stop acting on it at once (a holder that keeps consuming
   * could act beside the next holder). Not called on release. Returns the unsubscribe function.
   */
  onLost(listener: LeaseLostListener): () => void;
  /** Gives the lease (or the candidacy) up; another instance can take it at once. Idempotent. */
  release(): Promise<void>;
}

export interface LeaseElector {
  /** Joins the election for the lease named in `options` and returns the candidacy at once (a standby until chosen). */
  campaign(options: CampaignOptions): Promise<Lease>;
  /** Releases every lease it handed out and closes its connections. */
  close(): Promise<void>;
}

/** Work refused because this instance does not hold the lease (any more); retriable: the next holder does it. */
export class LeaseNotHeldError extends RetriableError {}
