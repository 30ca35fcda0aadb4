import { IdentityUpserted, RequestSubmitted, isEvent } from '@grantline/contracts';
import type { Envelope } from '@grantline/contracts';

/** What a mover is read from: a person's manager and department, and the upsert that last changed either. */
export interface PersonRecord {
  readonly managerId?: string;
  readonly department?: string;
  /** The upsert that moved the person (manager or department changed), with where they came from. */
  readonly lastMove?: { readonly eventId: string; readonly previousManagerId?: string; readonly previousDepartment?: string };
}

/** The request a grant came from, as submitted: who asked and why (lineage). */
export interface RequestRecord {
  readonly requesterId: string;
  readonly justification: string;
  readonly submittedAt: string;
  readonly ticket?: { readonly system: string; readonly id: string };
}

const departmentOf = (attributes: Readonly<Record<string, unknown>>, team: string | undefined): string | undefined => {
  const raw = attributes['department'];
  return typeof raw === 'string' ? raw : team;
};

/**
 * Folds an identity upsert into the people (in place). A first upsert is a joiner, not a mover; a later one whose
 * manager or department differs records the move, under the upsert's id, so the same upsert seen twice (replay, then
 * live) is recognised as the move it was.
 */
export const foldPerson = (people: Map<string, PersonRecord>, event: Envelope): void => {
  if (!isEvent(event, IdentityUpserted) || event.data.identity.kind !== 'human') return;
  const { identity } = event.data;
  const known = people.get(identity.identityId);
  if (known?.lastMove?.eventId === event.id) return;
  const managerId = identity.managerId;
  const department = departmentOf(identity.attributes, identity.team);
  const next: PersonRecord = { ...(managerId !== undefined ? { managerId } : {}), ...(department !== undefined ? { department } : {}) };
  const moved = known !== undefined && (known.managerId !== managerId || known.department !== department);
  people.set(
    identity.identityId,
    moved
      ? {
          ...next,
          lastMove: {
            eventId: event.id,
            ...(known.managerId !== undefined ? { previousManagerId: known.managerId } : {}),
            ...(known.department !== undefined ? { previousDepartment: known.department } : {}),
          },
        }
      : { ...next, ...(known?.lastMove !== undefined ? { lastMove: known.lastMove } : {}) },
  );
};

export const foldRequest = (requests: Map<string, RequestRecord>, event: Envelope): void => {
  if (!isEvent(event, RequestSubmitted) || requests.has(event.data.requestId)) return;
  const { requestId, requesterId, justification, ticket } = event.data;
  requests.set(requestId, {
    requesterId,
    justification,
    submittedAt: event.time,
    ...(ticket !== undefined ? { ticket: { system: ticket.system, id: ticket.id } } : {}),
  });
};
