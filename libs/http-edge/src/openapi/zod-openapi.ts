import { applyDecorators } from '@nestjs/common';
import { ApiBody, ApiQuery, ApiResponse } from '@nestjs/swagger';
import { z } from 'zod';
import { PROBLEM_CONTENT_TYPE } from '../problem/problem-details';

/** A JSON Schema object as an OpenAPI document embeds it. */
export type OpenApiSchema = Record<string, unknown>;

/**
 * Which JSON Schema dialect to write: `openapi-3.0` for the documents Nest's SwaggerModule builds (OpenAPI 3.0.0:
 * `nullable`, no `const`), `draft-2020-12` for an OpenAPI 3.1 document (the intake's).
 */
export type OpenApiTarget = 'openapi-3.0' | 'draft-2020-12';

export interface OpenApiSchemaOptions {
  /** `input` for what a route accepts (defaults applied by zod are optional), `output` for what it answers. */
  readonly io?: 'input' | 'output';
  readonly target?: OpenApiTarget;
}

/**
 * A zod schema as the JSON Schema an OpenAPI document embeds: the `$schema` dialect line left out, what JSON Schema
 * cannot say (a transform, a custom check) written as "any" rather than failing. A schema that needs definitions of
 * its own (a recursive schema: `$defs` and `$ref`) is refused: its references would not resolve inside an OpenAPI
 * document.
 */
export function openApiSchemaOf(schema: z.ZodType, options: OpenApiSchemaOptions = {}): OpenApiSchema {
  const json = z.toJSONSchema(schema, { io: options.io ?? 'output', target: options.target ?? 'openapi-3.0', unrepresentable: 'any' }) as OpenApiSchema;
  const { $schema: _dialect, ...embedded } = json;
  if ('$defs' in embedded || 'definitions' in embedded || JSON.stringify(embedded).includes('"$ref"')) {
    throw new Error('openApiSchemaOf: a recursive schema needs $defs / $ref, which would not resolve inside an OpenAPI document; make it non-recursive');
  }
  return embedded;
}

/** The RFC 9457 problem details every service answers errors with (`#/components/schemas/Problem`). */
export const PROBLEM_SCHEMA_NAME = 'Problem';
export const PROBLEM_OPENAPI_SCHEMA: OpenApiSchema = {
  type: 'object',
  required: ['type', 'title', 'status', 'detail'],
  properties: {
    type: { type: 'string', description: 'https://grantline.dev/problems/<slug>' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    errors: {
      type: 'array',
      description: 'Each bad field (`field`), or each problem inside a submitted document (`location`: file:line:column)',
      items: { type: 'object', properties: { field: { type: 'string' }, location: { type: 'string' }, message: { type: 'string' } }, required: ['message'] },
    },
  },
};

/** What each shared error status means, written once for every service. */
export const PROBLEM_RESPONSES = {
  400: 'Invalid input: `errors` names each bad field; nothing was written',
  401: 'Missing, expired, unsigned, wrong-issuer or wrong-audience token',
  403: 'The caller may not do this (see docs/authorization.md); the attempt is recorded, nothing else is written',
  404: 'Unknown — or not visible to the caller, answered exactly alike; a refused attempt is recorded',
  409: 'Refused in the current state; nothing was written',
  413: 'Body larger than the limit',
  422: 'Idempotency-Key already bound to a different request: nothing was published',
  503: 'Not ready (its state is not loaded yet: `state-not-loaded`), or the event log did not acknowledge: nothing was recorded; retry',
} as const;
export type ProblemStatus = keyof typeof PROBLEM_RESPONSES;

/** One problem-details answer, as an OpenAPI response object. */
export const problemResponse = (description: string): { description: string; content: Record<string, { schema: OpenApiSchema }> } => ({
  description,
  content: { [PROBLEM_CONTENT_TYPE]: { schema: { $ref: `#/components/schemas/${PROBLEM_SCHEMA_NAME}` } } },
});

/**
 * The problem-details answers of a route (or of every route of a controller), described once here. A status may
 * come with its own description: `ProblemResponses(401, 404, [409, 'The review is already completed'])`.
 */
export function ProblemResponses(...statuses: (ProblemStatus | readonly [ProblemStatus, string])[]): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ...statuses.map((entry) => {
      const [status, description] = typeof entry === 'number' ? [entry, PROBLEM_RESPONSES[entry]] : entry;
      return ApiResponse({ status, ...problemResponse(description) });
    }),
  );
}

/** The request body a route parses with `schema` (the same schema, so the document cannot drift from the check). */
export function ZodBody(schema: z.ZodType, description?: string): MethodDecorator {
  return ApiBody({ required: true, schema: openApiSchemaOf(schema, { io: 'input' }), ...(description !== undefined ? { description } : {}) });
}

/**
 * The query parameters of a route, one per property of the object `schema` it parses the query with (a refined
 * object too). Query values arrive as strings: the schema should say so.
 */
export function ZodQuery(schema: z.ZodType): MethodDecorator {
  const json = openApiSchemaOf(schema, { io: 'input' });
  const properties = (json['properties'] ?? {}) as Record<string, OpenApiSchema>;
  if (json['type'] !== 'object' || Object.keys(properties).length === 0) throw new Error('ZodQuery: the query schema must be an object with properties');
  const required = new Set((json['required'] ?? []) as string[]);
  return applyDecorators(
    ...Object.entries(properties).map(([name, property]) => {
      const { description, ...propertySchema } = property;
      return ApiQuery({
        name,
        required: required.has(name),
        schema: propertySchema,
        ...(typeof description === 'string' ? { description } : {}),
      });
    }),
  );
}

/**
 * An answer of a route, described by the zod schema of what the route returns: declare the route's return type as
 * `z.output<typeof schema>` (or `ViewOf<typeof schema>`), so the compiler holds the code to the document.
 */
export function ZodResponse(status: number, schema: z.ZodType, description: string, contentType = 'application/json'): MethodDecorator & ClassDecorator {
  return ApiResponse({ status, description, content: { [contentType]: { schema: openApiSchemaOf(schema) } } });
}

type Primitive = string | number | boolean | bigint | symbol | null | undefined;
/** `T` with every array and property read-only, all the way down. */
export type DeepReadonly<T> = unknown extends T
  ? T
  : T extends Primitive
    ? T
    : T extends readonly (infer Item)[]
      ? readonly DeepReadonly<Item>[]
      : { readonly [Key in keyof T]: DeepReadonly<T[Key]> };

/** The type of an answer described by a zod schema: its output, read-only, so views built from read-only state fit it. */
export type ViewOf<Schema extends z.ZodType> = DeepReadonly<z.output<Schema>>;
