import { z } from 'zod';

export const ActorSchema = z.object({
  kind: z.enum(['user', 'service', 'system']),
  id: z.string().min(1),
  name: z.string().optional(),
});
export type Actor = z.infer<typeof ActorSchema>;

/** `iga.<area>.<fact>[.<more>].v<N>`: the version is part of the type, so a consumer can never mistake v1 for v2. */
export const EVENT_TYPE_PATTERN = /^iga(\.[a-z][a-z0-9_-]*)+\.v[1-9][0-9]*$/;
/** The name part of a type: `iga.request.submitted`. */
export const EVENT_NAME_PATTERN = /^iga(\.[a-z][a-z0-9_-]*)+$/;

// CloudEvents 1.0 attribute names, plus the correlationid / causationid / actor extensions. Unknown extension
// attributes are dropped on parse rather than rejected, so a producer adding tracing attributes breaks no one.
export const EnvelopeSchema = z.object({
  specversion: z.literal('1.0'),
  id: z.string().min(1).max(200),
  source: z.string().min(1),
  type: z.string().regex(EVENT_TYPE_PATTERN),
  time: z.iso.datetime({ offset: true }),
  subject: z.string().min(1),
  datacontenttype: z.literal('application/json').optional(),
  dataschema: z.string().optional(),
  correlationid: z.string().min(1),
  causationid: z.string().min(1).optional(),
  actor: ActorSchema,
  data: z.unknown(),
});

/**
 * The envelope as it travels (ADR 0027): a CloudEvents 1.0 event in structured content mode,
 * whose extension attributes are all strings as the specification requires. The in-memory `actor` object travels as
 * three string extensions `actorkind`, `actorid` and (optional) `actorname`. Records written before this carry `actor`
 * as an object; `fromCloudEvent` reads both, so the log is never rewritten.
 */
export const CloudEventSchema = EnvelopeSchema.omit({ actor: true }).extend({
  actorkind: ActorSchema.shape.kind,
  actorid: ActorSchema.shape.id,
  actorname: z.string().optional(),
});
export type CloudEvent = z.infer<typeof CloudEventSchema>;

/** The structured-mode JSON of an envelope: every extension a string. */
export function toCloudEvent(envelope: Envelope): Record<string, unknown> {
  const { actor, ...attributes } = envelope;
  return { ...attributes, actorkind: actor.kind, actorid: actor.id, ...(actor.name === undefined ? {} : { actorname: actor.name }) };
}

/** The envelope of a structured-mode CloudEvent JSON value, whether it carries the actor as strings or (older records) as an object. */
export function fromCloudEvent(raw: unknown): unknown {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw) || !('actorkind' in raw || 'actorid' in raw)) return raw;
  const { actorkind, actorid, actorname, ...attributes } = raw as Record<string, unknown>;
  return { ...attributes, actor: { kind: actorkind, id: actorid, ...(actorname === undefined ? {} : { name: actorname }) } };
}

export type Envelope<TData = unknown, TType extends string = string> = Omit<z.infer<typeof EnvelopeSchema>, 'data' | 'type'> & {
  type: TType;
  data: TData;
};

/** What a producer supplies; the registry fills in specversion, type and datacontenttype. */
export type EnvelopeMeta = Omit<Envelope, 'type' | 'data' | 'specversion'>;
