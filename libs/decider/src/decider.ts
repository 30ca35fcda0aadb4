/**
 * The one shape of every service's domain (Emmett's Decider): what happens next is `decide(command, state)`,
 * what the state becomes is `evolve(state, event)`, starting from `initialState()`. Both are pure: time, ids and
 * lookups are bound when the decider is built (`makeXDecider(context)`), never read from the world inside.
 *
 * A "command" is whatever asks the service to act: an HTTP intent, or a fact from another service's topic that
 * this service reacts to. `Event` is what evolve folds — the service's own facts and, where its state is built
 * from other topics, theirs too.
 */
export interface Decider<Command, Event, State> {
  decide(command: Command, state: State): readonly Event[];
  evolve(state: State, event: Event): State;
  initialState(): State;
}

/** The state after the given events, from the decider's initial state (or from `state`). */
export function foldEvents<Command, Event, State>(decider: Decider<Command, Event, State>, events: Iterable<Event>, state?: State): State {
  let current = state ?? decider.initialState();
  for (const event of events) current = decider.evolve(current, event);
  return current;
}

/**
 * Decides, then folds the decided events into the state: what a runtime does for each command so the next
 * command sees the consequences of this one.
 */
export function decideAndEvolve<Command, Event, State>(
  decider: Decider<Command, Event, State>,
  command: Command,
  state: State,
): { readonly events: readonly Event[]; readonly state: State } {
  const events = decider.decide(command, state);
  return { events, state: foldEvents(decider, events, state) };
}
