import { z } from 'zod';

/** The longest period one pack covers: a year and a day, so a yearly audit fits and a replay stays bounded. */
export const MAX_EVIDENCE_PERIOD_DAYS = 366;

const Instant = z.iso.datetime({ offset: true, message: 'Invalid instant: expected ISO-8601 with a time zone, e.g. 2026-01-01T00:00:00Z' });

/** What a caller asks for: the period, and the format (`md` or `json`). Field errors name `from`, `to` or `format`. */
export const EvidenceQuerySchema = z
  .strictObject({
    from: Instant,
    to: Instant,
    format: z.enum(['md', 'json']).default('json'),
  })
  .superRefine((query, ctx) => {
    const span = Date.parse(query.to) - Date.parse(query.from);
    if (span <= 0) ctx.addIssue({ code: 'custom', path: ['to'], message: 'must be after from' });
    else if (span > MAX_EVIDENCE_PERIOD_DAYS * 86_400_000)
      ctx.addIssue({ code: 'custom', path: ['to'], message: `the period may span at most ${MAX_EVIDENCE_PERIOD_DAYS} days` });
  });
export type EvidenceQuery = z.infer<typeof EvidenceQuerySchema>;
