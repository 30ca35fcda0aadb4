export { NOTIFIER_ACTOR, NOTIFIER_SOURCE, breakGlassNotificationId, derive, failureNotificationId } from './notifier.derive';
export type { DeriveContext, Derivation } from './notifier.derive';
export { NotifierState, STATE_EVENTS } from './notifier.state';
export type { BreakGlassFact, BreakGlassReview, GrantFact } from './notifier.state';
