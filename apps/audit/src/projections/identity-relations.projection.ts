import type { IdentityOffboardedData, IdentityUpsertedData } from '@grantline/contracts';
import { IDENTITY_EVENT_TYPES, compareStrings, utc } from './projection';
import type { AuditEvent, IdentityEvent, Projection, ProjectionDocument } from './projection';

export type IdentityKind = IdentityOffboardedData['kind'];
export type IdentityStatus = IdentityUpsertedData['identity']['status'];

/** Where a fact came from: facts compete by their event's time (then id), never by the order they were read in. */
export interface FactStamp {
  readonly eventId: string;
  /** The event time, UTC. */
  readonly at: string;
}

/** What one `iga.identity.upserted.v1` said about the relations. */
export interface IdentityRecordFact extends FactStamp {
  readonly sourceVersion?: number;
  readonly kind: IdentityKind;
  readonly status: IdentityStatus;
  readonly managerId?: string;
  readonly ownerId?: string;
}

export interface OwnerChangeFact extends FactStamp {
  readonly ownerId: string;
}

export interface OffboardingFact extends FactStamp {
  readonly kind: IdentityKind;
  readonly effectiveAt: string;
}

/**
 * The relations of one identity as the identity source last stated them: the manager of a person, the owner of
 * record of a non-human identity, and whether it has left. The effective fields (`kind`, `status`, `managerId`,
 * `ownerId`) are derived from the facts below, so the document depends only on the set of events applied.
 *
 * `appliedEventIds` stays empty: every fact keeps only the winner of its kind, so applying an event a second time
 * cannot change it (the duplicate ties with itself and does not win), and remembering the id of every HR sync
 * would grow the document without bound.
 */
export interface IdentityRelationsDocument extends ProjectionDocument {
  readonly identityId: string;
  readonly kind?: IdentityKind;
  readonly status?: IdentityStatus;
  /** A person's manager of record. */
  readonly managerId?: string;
  /** A non-human identity's owner of record. */
  readonly ownerId?: string;
  /** The newest record among those the source versioned (`sourceVersion`): the highest version wins. */
  readonly versionedRecord?: IdentityRecordFact;
  /** The newest record among those without a version (an administrator's correction, a source that does not version). */
  readonly unversionedRecord?: IdentityRecordFact;
  readonly ownerChange?: OwnerChangeFact;
  readonly offboarding?: OffboardingFact;
}

const IDENTITY_TYPES: ReadonlySet<string> = new Set(IDENTITY_EVENT_TYPES);

function isIdentityEvent(event: AuditEvent): event is IdentityEvent {
  return IDENTITY_TYPES.has(event.type);
}

/** Positive when `a` is later; equal instants are ordered by event id so every reader picks the same winner. */
export function compareStamps(a: FactStamp, b: FactStamp): number {
  return Date.parse(a.at) - Date.parse(b.at) || compareStrings(a.eventId, b.eventId);
}

function compareVersioned(a: IdentityRecordFact, b: IdentityRecordFact): number {
  // A late duplicate of an older record carries a lower version: it loses whatever its envelope time says.
  return (a.sourceVersion ?? 0) - (b.sourceVersion ?? 0) || compareStamps(a, b);
}

/** `candidate` when it outranks `current`; the same event never outranks itself, which makes redelivery a no-op. */
function winner<T>(current: T | undefined, candidate: T, compare: (a: T, b: T) => number): T | undefined {
  return current === undefined || compare(candidate, current) > 0 ? candidate : undefined;
}

function recordOf(event: Extract<IdentityEvent, { type: 'iga.identity.upserted.v1' }>): IdentityRecordFact {
  const { identity, sourceVersion } = event.data;
  return {
    eventId: event.id,
    at: utc(event.time),
    ...(sourceVersion === undefined ? {} : { sourceVersion }),
    kind: identity.kind,
    status: identity.status,
    ...(identity.kind === 'human' ? (identity.managerId === undefined ? {} : { managerId: identity.managerId }) : { ownerId: identity.ownerId }),
  };
}

type Facts = Pick<IdentityRelationsDocument, 'versionedRecord' | 'unversionedRecord' | 'ownerChange' | 'offboarding'>;

/** The facts after `event`, or undefined when the event outranks none of them. */
function factsAfter(facts: Facts, event: IdentityEvent): Facts | undefined {
  const stamp: FactStamp = { eventId: event.id, at: utc(event.time) };
  switch (event.type) {
    case 'iga.identity.upserted.v1': {
      const record = recordOf(event);
      if (record.sourceVersion === undefined) {
        const won = winner(facts.unversionedRecord, record, compareStamps);
        return won === undefined ? undefined : { ...facts, unversionedRecord: won };
      }
      const won = winner(facts.versionedRecord, record, compareVersioned);
      return won === undefined ? undefined : { ...facts, versionedRecord: won };
    }
    case 'iga.identity.owner-changed.v1': {
      const won = winner(facts.ownerChange, { ...stamp, ownerId: event.data.newOwnerId }, compareStamps);
      return won === undefined ? undefined : { ...facts, ownerChange: won };
    }
    case 'iga.identity.offboarded.v1': {
      const won = winner(facts.offboarding, { ...stamp, kind: event.data.kind, effectiveAt: utc(event.data.effectiveAt) }, compareStamps);
      return won === undefined ? undefined : { ...facts, offboarding: won };
    }
  }
}

/** The later of the two records: a versioned record and an unversioned correction compete by time. */
function currentRecord(facts: Facts): IdentityRecordFact | undefined {
  const { versionedRecord: versioned, unversionedRecord: unversioned } = facts;
  if (versioned === undefined || unversioned === undefined) return versioned ?? unversioned;
  return compareStamps(unversioned, versioned) > 0 ? unversioned : versioned;
}

/** The relations in force, from the facts alone. */
export function relationsOf(identityId: string, facts: Facts): IdentityRelationsDocument {
  const record = currentRecord(facts);
  const kind = record?.kind ?? facts.offboarding?.kind;
  // An offboarding recorded at or after the record stands (fail closed on a tie); a later record is a rehire.
  const offboarded = facts.offboarding !== undefined && (record === undefined || Date.parse(facts.offboarding.at) >= Date.parse(record.at));
  const status = offboarded ? 'offboarded' : record?.status;
  // A person has no owner: an owner change names a non-human identity, whose record may not have arrived yet.
  const owners =
    kind === 'human'
      ? []
      : [record?.ownerId === undefined ? undefined : { eventId: record.eventId, at: record.at, ownerId: record.ownerId }, facts.ownerChange];
  const owner = owners
    .filter((fact): fact is OwnerChangeFact => fact !== undefined)
    .sort(compareStamps)
    .at(-1);
  return {
    _id: identityId,
    identityId,
    ...(kind === undefined ? {} : { kind }),
    ...(status === undefined ? {} : { status }),
    ...(record?.kind === 'human' && record.managerId !== undefined ? { managerId: record.managerId } : {}),
    ...(owner === undefined ? {} : { ownerId: owner.ownerId }),
    ...(facts.versionedRecord === undefined ? {} : { versionedRecord: facts.versionedRecord }),
    ...(facts.unversionedRecord === undefined ? {} : { unversionedRecord: facts.unversionedRecord }),
    ...(facts.ownerChange === undefined ? {} : { ownerChange: facts.ownerChange }),
    ...(facts.offboarding === undefined ? {} : { offboarding: facts.offboarding }),
    appliedEventIds: [],
  };
}

function identityIdOf(event: IdentityEvent): string {
  return event.type === 'iga.identity.upserted.v1' ? event.data.identity.identityId : event.data.identityId;
}

/**
 * Who manages whom and who owns which non-human identity, from the identity source's events on
 * `iga.identities.v1`: what a member's access to audit records rests on. Upserts honour `sourceVersion` when the
 * source sets it; otherwise (and between a versioned record and an unversioned correction) the later event wins.
 * An offboarding does not list the people the leaver managed, so it ends the leaver's relations where they are
 * used: an offboarded identity holds none (see AuditAccess).
 */
export const identityRelationsProjection: Projection<IdentityRelationsDocument> = {
  name: 'identity_relations',
  version: 1,
  handles: IDENTITY_EVENT_TYPES,
  documentIdsOf(event) {
    return isIdentityEvent(event) ? [identityIdOf(event)] : [];
  },
  apply(doc, event, identityId) {
    const current: IdentityRelationsDocument = doc ?? { _id: identityId, identityId, appliedEventIds: [] };
    if (!isIdentityEvent(event)) return current;
    const { versionedRecord, unversionedRecord, ownerChange, offboarding } = current;
    const facts = factsAfter({ versionedRecord, unversionedRecord, ownerChange, offboarding }, event);
    if (facts === undefined) return current;
    return relationsOf(identityId, facts);
  },
};
