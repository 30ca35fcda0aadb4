import type { Envelope } from '@grantline/contracts';
import { activated, approved, decided, grantCreated, revoked, submitted } from '../testing/lifecycle.builders';
import type { ParkedEvent } from './parked-event.drain';
import { foldStatusBatch, toView } from './request-status.batch';
import type { FoldedBatch, StatusDocument } from './request-status.batch';

/** What a store would hold: its documents and its parked events, each batch's writes applied. */
interface Stored {
  documents: StatusDocument[];
  parked: ParkedEvent[];
}

let arrivals = 0;
const arrival = (): number => (arrivals += 1);

function store(stored: Stored, folded: FoldedBatch): Stored {
  const written = new Map(folded.writes.map(({ document }) => [document._id, document]));
  return {
    documents: [...stored.documents.filter((document) => !written.has(document._id)), ...written.values()],
    parked: [...stored.parked.filter((parked) => !folded.parkedToRemove.includes(parked.eventId)), ...folded.parkedToAdd],
  };
}

/** The events folded in batches of the given size, each batch written before the next is folded. */
function inBatches(events: readonly Envelope[], size: number, stored: Stored = { documents: [], parked: [] }): { stored: Stored; batches: FoldedBatch[] } {
  const batches: FoldedBatch[] = [];
  for (let start = 0; start < events.length; start += size) {
    const folded = foldStatusBatch(events.slice(start, start + size), stored, arrival);
    batches.push(folded);
    stored = store(stored, folded);
  }
  return { stored, batches };
}

const views = (stored: Stored) => stored.documents.map(toView).sort((a, b) => a.requestId.localeCompare(b.requestId));
const told = (batches: readonly FoldedBatch[]) => batches.flatMap((batch) => batch.ticketStatuses.map((change) => `${change.status} ${change.cause.id}`));

describe('request status batch fold', () => {
  const grant = 'req-b:orders-staging-read';
  const lifecycle = (): Envelope[] => [
    submitted({ requestId: 'req-b' }),
    decided('auto_approve', 'req-b'),
    approved('req-b'),
    grantCreated('req-b', 'orders-staging-read'),
    activated(grant),
  ];

  it('given a request whole in one batch, ends in the view one event at a time gives, written once', () => {
    const events = lifecycle();
    const oneByOne = inBatches(events, 1);
    const whole = inBatches(events, events.length);
    expect(views(whole.stored)).toEqual(views(oneByOne.stored));
    expect(views(whole.stored)[0]).toMatchObject({ status: 'provisioned', grants: [{ grantId: grant, state: 'active' }] });
    expect(whole.batches[0]?.writes).toHaveLength(1);
    expect(whole.batches[0]?.writes[0]?.expectedRevision).toBeUndefined();
    expect(told(whole.batches)).toEqual(told(oneByOne.batches));
  });

  it('given events in any order, ends in the view one event at a time gives, whatever the batch size', () => {
    const events = lifecycle();
    for (const order of [
      [4, 3, 2, 1, 0],
      [1, 0, 4, 2, 3],
      [2, 4, 0, 3, 1],
    ]) {
      const shuffled = order.map((index) => events[index]!);
      const oneByOne = inBatches(shuffled, 1);
      expect(views(oneByOne.stored)[0]).toMatchObject({ status: 'provisioned', grants: [{ grantId: grant, state: 'active' }] });
      for (const size of [2, 5]) {
        const batched = inBatches(shuffled, size);
        expect(views(batched.stored)).toEqual(views(oneByOne.stored));
        expect(told(batched.batches)).toEqual(told(oneByOne.batches));
        expect(batched.stored.parked).toEqual([]);
      }
    }
  });

  it('given events of a request that arrives later in the batch, parks and drains them in memory: nothing is parked', () => {
    const events = lifecycle();
    const [submission, ...early] = events;
    const { batches, stored } = inBatches([...early, submission!], 5);
    expect(batches[0]?.applied.map((change) => change.event.id)).toEqual(events.map((event) => event.id));
    expect(batches[0]?.parkedToAdd).toEqual([]);
    expect(batches[0]?.ticketStatuses.map((change) => change.batchIndex)).toEqual([4, 4, 4]);
    expect(views(stored)[0]?.status).toBe('provisioned');
  });

  it('given events parked by an earlier batch, the batch that creates their request applies them and removes them', () => {
    const events = lifecycle();
    const first = inBatches(events.slice(1), 4);
    expect(first.stored.parked.map((parked) => parked.eventId).sort()).toEqual(
      events
        .slice(1)
        .map((event) => event.id)
        .sort(),
    );
    expect(first.batches[0]?.writes).toEqual([]);
    const second = inBatches([events[0]!], 1, first.stored);
    expect([...(second.batches[0]?.parkedToRemove ?? [])].sort()).toEqual(
      events
        .slice(1)
        .map((event) => event.id)
        .sort(),
    );
    expect(second.stored.parked).toEqual([]);
    expect(views(second.stored)[0]?.status).toBe('provisioned');
  });

  it('when a batch is delivered again, writes nothing and tells the same statuses, in the same places', () => {
    const events = [decided('auto_approve', 'req-b'), submitted({ requestId: 'req-b' }), approved('req-b'), activated(grant), revoked(grant)];
    const first = inBatches(events, 5);
    const again = foldStatusBatch(events, first.stored, arrival);
    expect(again.writes).toEqual([]);
    expect(again.applied).toEqual([]);
    expect(again.parkedToAdd).toEqual([]);
    expect(again.ticketStatuses).toEqual(first.batches[0]?.ticketStatuses.map((change) => ({ ...change, view: expect.anything() })));
    expect(again.ticketStatuses.map((change) => change.status)).toEqual(['received', 'approved', 'provisioned', 'revoked']);
  });

  it('given an event parked by another writer whose grant its view now holds, applies it as it comes and removes the parked copy', () => {
    const activation = activated(grant);
    const parkedElsewhere = inBatches([activation], 1);
    const { stored } = inBatches([submitted({ requestId: 'req-b' }), approved('req-b')], 2, { documents: [], parked: [] });
    const folded = foldStatusBatch([activation], { documents: stored.documents, parked: parkedElsewhere.stored.parked }, arrival);
    expect(folded.applied.map((change) => change.event.id)).toEqual([activation.id]);
    expect(folded.parkedToRemove).toEqual([activation.id]);
    expect(folded.parkedToAdd).toEqual([]);
  });

  it('given a grant event whose grant no view holds, parks it under the grant until an approval attaches it', () => {
    const activation = activated(grant);
    const first = inBatches([submitted({ requestId: 'req-b' }), activation], 2);
    expect(first.stored.parked).toEqual([expect.objectContaining({ eventId: activation.id, grantId: grant })]);
    expect(first.stored.parked[0]?.requestId).toBeUndefined();
    const second = inBatches([approved('req-b')], 1, first.stored);
    expect(second.stored.parked).toEqual([]);
    expect(views(second.stored)[0]?.status).toBe('provisioned');
    expect(second.batches[0]?.writes[0]?.expectedRevision).toBe(1);
  });
});
