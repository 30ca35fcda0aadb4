/** Raised when an event type is not in the registry (a typo, or a newer producer than this consumer). */
export class UnknownEventTypeError extends Error {
  readonly eventType: string;

  constructor(eventType: string) {
    super(`Unknown event type: ${eventType}`);
    this.name = 'UnknownEventTypeError';
    this.eventType = eventType;
  }
}
