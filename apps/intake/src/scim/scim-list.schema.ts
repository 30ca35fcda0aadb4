import { z } from 'zod';
import { ScimError, describeIssues } from './scim.error';

/** The most resources one page holds (ServiceProviderConfig `filter.maxResults`). */
export const MAX_PAGE_SIZE = 200;
export const DEFAULT_PAGE_SIZE = 100;

const integer = z
  .string()
  .regex(/^-?\d{1,9}$/, { message: 'expected an integer' })
  .transform(Number);

/** RFC 7644 §3.4.2: the query parameters of a list. Sorting is not supported (sortBy / sortOrder are ignored). */
export const ListQuerySchema = z.object({
  filter: z.string().max(2_000).optional(),
  // RFC 7644 §3.4.2.4: a startIndex below 1 is read as 1, a negative count as 0; more than the maximum gives the maximum.
  startIndex: integer.transform((n) => Math.max(1, n)).optional(),
  count: integer.transform((n) => Math.min(MAX_PAGE_SIZE, Math.max(0, n))).optional(),
  attributes: z.string().max(2_000).optional(),
  excludedAttributes: z.string().max(2_000).optional(),
});

export interface ListQuery {
  readonly filter?: string;
  readonly startIndex: number;
  readonly count: number;
  readonly attributes?: readonly string[];
  readonly excludedAttributes?: readonly string[];
}

const namesOf = (list: string | undefined): string[] | undefined =>
  list === undefined
    ? undefined
    : list
        .split(',')
        .map((name) => name.trim())
        .filter(Boolean);

/** A repeated parameter (`?count=1&count=2`) arrives as an array: the first counts. */
const first = (value: unknown): unknown => (Array.isArray(value) ? value[0] : value);

export function parseListQuery(query: Record<string, unknown>): ListQuery {
  const picked = Object.fromEntries(Object.entries(query).map(([key, value]) => [key, first(value)]));
  const parsed = ListQuerySchema.safeParse(picked);
  if (!parsed.success) throw ScimError.invalidValue(describeIssues(parsed.error));
  const { filter, startIndex = 1, count = DEFAULT_PAGE_SIZE, attributes, excludedAttributes } = parsed.data;
  const included = namesOf(attributes);
  const excluded = namesOf(excludedAttributes);
  return {
    ...(filter === undefined || filter.trim() === '' ? {} : { filter }),
    startIndex,
    count,
    ...(included === undefined ? {} : { attributes: included }),
    ...(excluded === undefined ? {} : { excludedAttributes: excluded }),
  };
}
