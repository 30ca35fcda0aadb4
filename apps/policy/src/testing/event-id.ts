import { deterministicEventId } from '@grantline/messaging';

/**
 * The id function the service injects into its domain code. Domain code may not import @grantline/messaging (see
 * eslint.config.mjs), so its specs take the same function from here: the ids they assert are, byte for byte, the
 * ids the service publishes, and a replay of the log derives them again.
 */
export const specEventId: (...parts: string[]) => string = deterministicEventId;
