import type { Clock } from '@grantline/decider';

export class SystemClock implements Clock {
  now(): Date {
    return new Date();
  }
}
