export { NOTIFIER_ACTOR, NOTIFIER_SOURCE, breakGlassNotificationId, driftNotificationId, failureNotificationId, makeNotifierDecider } from './notifier.decider';
export type { NotifierContext, NotifierDecider } from './notifier.decider';
export { NotifierState, STATE_EVENTS } from './notifier.state';
export type { BreakGlassFact, BreakGlassReview, GrantFact, NotifierStateParts } from './notifier.state';
