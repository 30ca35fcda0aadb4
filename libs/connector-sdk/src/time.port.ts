/** Time is injected (architecture principle 7) so retries and expiries run instantly in tests: the one Clock port. */
export type { Clock } from '@grantline/decider';
export { systemClock } from '@grantline/decider';

export type Sleeper = (ms: number) => Promise<void>;

export const realSleeper: Sleeper = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
