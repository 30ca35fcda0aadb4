/** Time is injected (architecture principle 7) so retries and expiries run instantly in tests. */
export interface Clock {
  now(): Date;
}

export type Sleeper = (ms: number) => Promise<void>;

export const systemClock: Clock = { now: () => new Date() };

export const realSleeper: Sleeper = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
