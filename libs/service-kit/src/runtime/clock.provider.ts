import type { Provider } from '@nestjs/common';
import { systemClock } from '@grantline/decider';
import type { Clock } from '@grantline/decider';

/** Nest injection token of the one clock port (`Clock` from @grantline/decider). Specs override it with a fixedClock. */
export const CLOCK = Symbol('CLOCK');

export function clockProvider(clock: Clock = systemClock): Provider {
  return { provide: CLOCK, useValue: clock };
}
