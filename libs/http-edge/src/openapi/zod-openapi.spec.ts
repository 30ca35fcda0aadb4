import { Body, Controller, Get, Module, Post, Query } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { OpenAPIObject } from '@nestjs/swagger';
import { z } from 'zod';
import { undocumentedOperationsOf } from './openapi-coverage';
import type { RouteInputs } from './openapi-coverage';
import { PROBLEM_OPENAPI_SCHEMA, ProblemResponses, ZodBody, ZodQuery, ZodResponse, openApiSchemaOf } from './zod-openapi';

const ThingBodySchema = z.strictObject({ name: z.string().min(1).describe('What to call it'), size: z.number().int().default(1) });
const ThingSchema = z.object({ thingId: z.string(), name: z.string(), note: z.string().nullable() });
const ThingsQuerySchema = z.strictObject({ owner: z.string().describe('Whose things'), limit: z.string().optional() });

@Controller('v1/things')
class ThingsController {
  @Post()
  @ZodBody(ThingBodySchema)
  @ZodResponse(201, ThingSchema, 'The thing made')
  @ProblemResponses(400, [409, 'Already there'])
  create(@Body() body: unknown): unknown {
    return body;
  }

  @Get()
  @ZodQuery(ThingsQuerySchema)
  @ZodResponse(200, z.object({ things: z.array(ThingSchema) }), 'The things')
  list(@Query() query: unknown): unknown {
    return query;
  }
}

@Module({ controllers: [ThingsController] })
class ThingsModule {}

async function documentOf(module: unknown): Promise<OpenAPIObject> {
  const app = await NestFactory.create(module as never, { preview: true, logger: false });
  try {
    const document = SwaggerModule.createDocument(app, new DocumentBuilder().build());
    return { ...document, components: { ...document.components, schemas: { ...document.components?.schemas, Problem: PROBLEM_OPENAPI_SCHEMA } } };
  } finally {
    await app.close();
  }
}

const routes: RouteInputs[] = [
  { method: 'post', path: '/v1/things', body: true, query: false },
  { method: 'get', path: '/v1/things', body: false, query: true },
];

describe('openApiSchemaOf', () => {
  it('writes the JSON Schema of a zod schema without its dialect line, as OpenAPI 3.0 by default', () => {
    const schema = openApiSchemaOf(ThingSchema);
    expect(schema).not.toHaveProperty('$schema');
    expect(schema).toMatchObject({ type: 'object', required: ['thingId', 'name', 'note'], properties: { note: { type: 'string', nullable: true } } });
  });

  it('writes what a route accepts for io input: a defaulted field is optional', () => {
    expect(openApiSchemaOf(ThingBodySchema, { io: 'input' })['required']).toEqual(['name']);
    expect(openApiSchemaOf(ThingBodySchema, { io: 'output' })['required']).toEqual(['name', 'size']);
  });

  it('refuses a recursive schema, whose $defs would not resolve inside an OpenAPI document', () => {
    const Node: z.ZodType = z.lazy(() => z.object({ children: z.array(Node) }));
    expect(() => openApiSchemaOf(z.object({ root: Node }))).toThrow(/\$defs/);
  });
});

describe('ZodBody, ZodQuery, ZodResponse and ProblemResponses', () => {
  it('document a route from the zod schemas it parses and answers with', async () => {
    const document = await documentOf(ThingsModule);
    const create = document.paths['/v1/things']?.post;
    expect(create?.requestBody).toMatchObject({
      required: true,
      content: { 'application/json': { schema: { properties: { name: { description: 'What to call it' } } } } },
    });
    expect(create?.responses['201']).toMatchObject({
      description: 'The thing made',
      content: { 'application/json': { schema: { required: ['thingId', 'name', 'note'] } } },
    });
    expect(create?.responses['409']).toMatchObject({
      description: 'Already there',
      content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
    });
    const list = document.paths['/v1/things']?.get;
    expect(list?.parameters).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'owner', in: 'query', required: true, description: 'Whose things' }),
        expect.objectContaining({ name: 'limit', in: 'query', required: false }),
      ]),
    );
    expect(undocumentedOperationsOf(document, routes)).toEqual([]);
  });
});

describe('undocumentedOperationsOf', () => {
  const typed = { type: 'object', properties: { id: { type: 'string' } } };
  const ok = { '200': { description: 'ok', content: { 'application/json': { schema: typed } } } };

  it('names an untyped body, an untyped or missing success answer, and a body or query the document leaves out', () => {
    const document = {
      paths: {
        '/a': { post: { operationId: 'a', requestBody: { content: { 'application/json': { schema: {} } } }, responses: ok } },
        '/b': { get: { operationId: 'b', responses: { '200': { description: 'no content' } } } },
        '/c': { get: { operationId: 'c', responses: { '200': { description: 'bare', content: { 'application/json': { schema: { type: 'object' } } } } } } },
        '/d': { delete: { operationId: 'd', responses: { '401': { description: 'only errors' } } } },
        '/e': { post: { operationId: 'e', responses: ok } },
      },
    };
    const reads: RouteInputs[] = [
      { method: 'post', path: '/e', body: true, query: false },
      { method: 'get', path: '/b', body: false, query: true },
      { method: 'get', path: '/f', body: false, query: false },
    ];
    expect(undocumentedOperationsOf(document, reads)).toEqual([
      'POST /a: request body: application/json has no schema (or an empty one)',
      'GET /b: answer 200: no content',
      'GET /c: answer 200: application/json has no schema (or an empty one)',
      'DELETE /d: no 2xx answer documented',
      'POST /e: reads a body the document does not describe',
      'GET /b: reads a query the document does not describe',
      'GET /f: served but not in the document',
    ]);
  });

  it('names an operationId used twice and a $ref that resolves nowhere; a 204 needs no content', () => {
    const document = {
      paths: {
        '/a': {
          get: {
            operationId: 'same',
            responses: { '200': { description: 'ok', content: { 'application/json': { schema: { $ref: '#/components/schemas/Gone' } } } } },
          },
        },
        '/b': { delete: { operationId: 'same', responses: { '204': { description: 'deleted' } } } },
      },
      components: { schemas: {} },
    };
    expect(undocumentedOperationsOf(document)).toEqual(["DELETE /b: operationId same is also GET /a's", '$ref #/components/schemas/Gone resolves nowhere']);
  });
});
