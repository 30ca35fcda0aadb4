import { deciderSpec } from './decider-spec';
import type { Decider } from '@grantline/decider';
import { decideAndEvolve, fixedClock, foldEvents } from '@grantline/decider';

// A counter that may not exceed its limit: the smallest decider that has a rule, a state and a refusal.
type Command = { kind: 'add'; amount: number };
type Event = { type: 'added'; amount: number } | { type: 'refused'; reason: string };
const counter = (limit: number): Decider<Command, Event, number> => ({
  initialState: () => 0,
  evolve: (total, event) => (event.type === 'added' ? total + event.amount : total),
  decide: (command, total) => {
    if (command.amount <= 0) throw new RangeError('amount must be positive');
    return total + command.amount > limit ? [{ type: 'refused', reason: `over ${limit}` }] : [{ type: 'added', amount: command.amount }];
  },
});
const given = deciderSpec(counter(10));

describe('Decider', () => {
  it('given nothing, when a command fits, then it is decided', () => {
    given([])
      .when({ kind: 'add', amount: 4 })
      .then([{ type: 'added', amount: 4 }]);
  });

  it('given past events, when a command would break the rule, then it is refused', () => {
    given([{ type: 'added', amount: 8 }])
      .when({ kind: 'add', amount: 4 })
      .thenMatches([{ type: 'refused' }]);
  });

  it('given a state, when a command is invalid, then decide throws', () => {
    given.state(3).when({ kind: 'add', amount: 0 }).thenThrows('positive');
  });

  it('then the decided events evolve the state', () => {
    given([{ type: 'added', amount: 2 }])
      .when({ kind: 'add', amount: 5 })
      .thenAssert((events, after) => {
        expect(events).toHaveLength(1);
        expect(after).toBe(7);
      });
  });

  it('decideAndEvolve and foldEvents agree with the spec helper', () => {
    const decider = counter(10);
    const state = foldEvents(decider, [{ type: 'added', amount: 1 }]);
    expect(decideAndEvolve(decider, { kind: 'add', amount: 2 }, state)).toEqual({ events: [{ type: 'added', amount: 2 }], state: 3 });
  });

  it('a spec that expects the wrong events fails', () => {
    expect(() => given([]).when({ kind: 'add', amount: 4 }).then([])).toThrow();
    expect(() => given([]).when({ kind: 'add', amount: 4 }).thenThrows()).toThrow('expected decide to throw');
  });
});

describe('fixedClock', () => {
  it('stands still until advanced, and only moves forward', () => {
    const clock = fixedClock('2026-12-03T10:00:00.000Z');
    expect(clock.now().toISOString()).toBe('2026-12-03T10:00:00.000Z');
    expect(clock.advance(1_000).toISOString()).toBe('2026-12-03T10:00:01.000Z');
    expect(() => clock.advance(-1)).toThrow(RangeError);
  });
});
