import { z } from 'zod';
import { SCIM_SCHEMAS, isJsonObject, keyOf } from './scim-attributes.schema';
import type { Json, JsonObject } from './scim-attributes.schema';
import type { PatchOperation } from './scim-patch.applier';
import { ScimError, describeIssues } from './scim.error';

const OperationSchema = z.object({
  // Azure AD writes `Add`, `Replace`, `Remove`.
  op: z
    .string({ error: (issue) => (issue.input === undefined ? 'required' : 'expected a string') })
    .transform((op) => op.toLowerCase())
    .pipe(z.enum(['add', 'remove', 'replace'], { error: 'expected add, remove or replace' })),
  path: z.string({ error: 'expected a string' }).min(1).max(2_000).optional(),
  value: z.unknown().optional(),
});

/** RFC 7644 §3.5.2: the PatchOp message. */
export const PatchOpBodySchema = z.object({
  schemas: z
    .array(z.string())
    .refine((schemas) => schemas.includes(SCIM_SCHEMAS.patchOp), { message: `must include ${SCIM_SCHEMAS.patchOp}` })
    .optional(),
  Operations: z
    .array(OperationSchema, { error: (issue) => (issue.input === undefined ? 'required' : 'expected an array of operations') })
    .min(1)
    .max(1_000),
});

/** Member names are case-insensitive like attribute names (`operations`, `Op`): pick them whatever the case. */
function withCanonicalKeys(object: JsonObject, names: readonly string[]): JsonObject {
  const result: JsonObject = {};
  for (const name of names) {
    const key = keyOf(object, name);
    const value = key === undefined ? undefined : object[key];
    if (value !== undefined) result[name] = value;
  }
  return result;
}

/**
 * Parses a PatchOp body, or throws 400 invalidSyntax. The `schemas` member may be missing (older clients omit it),
 * but when present it must name the PatchOp message.
 */
export function parsePatchBody(body: unknown): PatchOperation[] {
  if (!isJsonObject(body)) throw ScimError.invalidSyntax('the body is not a JSON object');
  const message = withCanonicalKeys(body, ['schemas', 'Operations']);
  const operations = message['Operations'];
  if (Array.isArray(operations))
    message['Operations'] = operations.map((operation) => (isJsonObject(operation) ? withCanonicalKeys(operation, ['op', 'path', 'value']) : operation));
  const parsed = PatchOpBodySchema.safeParse(message);
  if (!parsed.success) throw ScimError.invalidSyntax(describeIssues(parsed.error));
  return parsed.data.Operations.map(({ op, path, value }) => ({
    op,
    ...(path === undefined ? {} : { path }),
    // The body came from JSON.parse: whatever is there is JSON.
    ...(value === undefined ? {} : { value: value as Json }),
  }));
}
