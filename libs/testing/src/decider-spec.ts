import type { Decider } from '@grantline/decider';
import { foldEvents } from '@grantline/decider';

/**
 * Given/When/Then for a Decider (Emmett's DeciderSpecification): given the events that happened (or a state
 * built some other way), when a command arrives, then these events are decided — or nothing, or an error.
 * Every domain spec reads the same way, and the state is only ever built through the decider's own evolve.
 *
 *   const given = deciderSpec(makeApprovalDecider(context));
 *   given([submitted, decided]).when(approve).then([approved]);
 */
export interface DeciderThen<Event, State> {
  /** Exactly these events, in order (deep equality). */
  then(expected: readonly Event[]): void;
  /** As many events as expected, each matching its partial (toMatchObject). */
  thenMatches(expected: readonly unknown[]): void;
  /** No event is decided. */
  thenNothing(): void;
  /** decide throws; the error matches when a matcher is given (message substring, RegExp, or predicate). */
  thenThrows(matcher?: string | RegExp | ((error: unknown) => boolean)): void;
  /** Any other assertion, over the decided events and the state they evolve into. */
  thenAssert(assertion: (events: readonly Event[], stateAfter: State) => void): void;
}

export interface DeciderWhen<Command, Event, State> {
  when(command: Command): DeciderThen<Event, State>;
}

export type DeciderGiven<Command, Event, State> = {
  (events: readonly Event[]): DeciderWhen<Command, Event, State>;
  /** Starts from a state built outside the decider (a snapshot), not from events. */
  state(state: State): DeciderWhen<Command, Event, State>;
};

export function deciderSpec<Command, Event, State>(decider: Decider<Command, Event, State>): DeciderGiven<Command, Event, State> {
  const from = (initial: () => State): DeciderWhen<Command, Event, State> => ({
    when: (command) => {
      const run = (): { events: readonly Event[]; stateAfter: State } => {
        const state = initial();
        const events = decider.decide(command, state);
        return { events, stateAfter: foldEvents(decider, events, state) };
      };
      return {
        then: (expected) => expect(run().events).toEqual(expected),
        thenMatches: (expected) => {
          const { events } = run();
          expect(events).toHaveLength(expected.length);
          expected.forEach((partial, index) => expect(events[index]).toMatchObject(partial as object));
        },
        thenNothing: () => expect(run().events).toEqual([]),
        thenThrows: (matcher) => {
          let thrown: { error: unknown } | undefined;
          try {
            run();
          } catch (error) {
            thrown = { error };
          }
          if (thrown === undefined) throw new Error('expected decide to throw, but it decided');
          if (matcher === undefined) return;
          if (typeof matcher === 'function') expect(matcher(thrown.error)).toBe(true);
          else expect(String(thrown.error instanceof Error ? thrown.error.message : thrown.error)).toMatch(matcher);
        },
        thenAssert: (assertion) => {
          const { events, stateAfter } = run();
          assertion(events, stateAfter);
        },
      };
    },
  });
  const given = ((events: readonly Event[]) => from(() => foldEvents(decider, events))) as DeciderGiven<Command, Event, State>;
  given.state = (state: State) => from(() => state);
  return given;
}
