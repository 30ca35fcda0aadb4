import { PolicyBundleLoaded, isEvent } from '@grantline/contracts';
import type { Envelope } from '@grantline/contracts';
import type { LogPosition } from '@grantline/messaging';
import type { FoldedState } from '@grantline/messaging-nest';
import { applyFact, applyReviewReevaluationFact, applySodFact, emptyReviewReevaluationFacts, initialPolicyState, initialSodFacts } from '../domain';
import type { MutablePolicyState, ReviewReevaluationFacts, SodFacts } from '../domain';

/**
 * The domain state, folded in place: copying it per event, as the pure evolve does, would make a replay quadratic.
 * An event at or before an offset already folded for its partition is skipped, so the start-up replay, the
 * catch-ups and the live consumer can overlap without an older record overwriting a newer one.
 */
export class FoldedPolicyState implements FoldedState {
  readonly current: MutablePolicyState = initialPolicyState();
  /** What detective SoD reads beside the state: accounts behind grants, and access found on targets without one. */
  readonly sod: SodFacts = initialSodFacts();
  /** Policy's own decisions (the first per request) and the campaigns it answered: what a review item is re-evaluated from. */
  readonly recorded: ReviewReevaluationFacts = emptyReviewReevaluationFacts();
  /** Digests (bare hex) of the bundles announced on the bundles topic: a bundle is announced once, whatever the restarts. */
  readonly announcedDigests = new Set<string>();
  /** Per `<topic>/<partition>`, the highest offset folded: what `apply` skips (and a snapshot keeps, for the catch-ups). */
  readonly folded = new Map<string, bigint>();

  /** False when the event was folded already (same or later offset seen on its partition). */
  apply(event: Envelope, position?: LogPosition): boolean {
    if (position) {
      const key = `${position.topic}/${position.partition}`;
      const offset = BigInt(position.offset);
      const seen = this.folded.get(key);
      if (seen !== undefined && offset <= seen) return false;
      this.folded.set(key, offset);
    }
    if (isEvent(event, PolicyBundleLoaded)) {
      this.announcedDigests.add(event.data.digest);
      return true;
    }
    if (applyReviewReevaluationFact(this.recorded, event)) return true;
    applyFact(this.current, event);
    applySodFact(this.sod, event);
    return true;
  }
}
