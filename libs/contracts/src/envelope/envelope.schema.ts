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

export type Envelope<TData = unknown, TType extends string = string> = Omit<z.infer<typeof EnvelopeSchema>, 'data' | 'type'> & {
  type: TType;
  data: TData;
};

/** What a producer supplies; the registry fills in specversion, type and datacontenttype. */
export type EnvelopeMeta = Omit<Envelope, 'type' | 'data' | 'specversion'>;
