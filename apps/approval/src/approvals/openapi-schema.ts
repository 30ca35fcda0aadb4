import { z } from 'zod';

/** A zod schema as the JSON Schema an OpenAPI document embeds (the `$schema` dialect line left out). */
export const openApiSchemaOf = (schema: z.ZodType): Record<string, unknown> => {
  const { $schema: _dialect, ...json } = z.toJSONSchema(schema, { io: 'output', unrepresentable: 'any' }) as Record<string, unknown>;
  return json;
};
