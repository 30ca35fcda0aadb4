import { METHOD_METADATA, PATH_METADATA, ROUTE_ARGS_METADATA } from '@nestjs/common/constants';
import { RequestMethod } from '@nestjs/common';
import type { INestApplication, Type } from '@nestjs/common';
import { ModulesContainer, NestFactory } from '@nestjs/core';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { OpenAPIObject } from '@nestjs/swagger';
import { PROBLEM_OPENAPI_SCHEMA, PROBLEM_SCHEMA_NAME } from '@grantline/http-edge';
import type { RouteInputs } from '@grantline/http-edge';

/**
 * A service's OpenAPI document, from its controllers' decorators (`@ZodBody`, `@ZodQuery`, `@ZodResponse`,
 * `@ProblemResponses` of @grantline/http-edge) plus the shared components they refer to (`Problem`).
 */
export function buildServiceOpenApiDocument(app: INestApplication, serviceName: string): OpenAPIObject {
  const document = SwaggerModule.createDocument(app, new DocumentBuilder().setTitle(`Grantline ${serviceName}`).setVersion('1').addBearerAuth().build());
  return {
    ...document,
    components: { ...document.components, schemas: { ...document.components?.schemas, [PROBLEM_SCHEMA_NAME]: PROBLEM_OPENAPI_SCHEMA } },
  };
}

// RouteParamtypes.BODY and .QUERY (@nestjs/common keeps the enum internal).
const BODY_PARAM = 3;
const QUERY_PARAM = 4;

const joinPath = (...parts: string[]): string =>
  `/${parts
    .flatMap((part) => part.split('/'))
    .filter((segment) => segment.length > 0)
    .map((segment) => (segment.startsWith(':') ? `{${segment.slice(1)}}` : segment))
    .join('/')}`;

/** The methods of a controller, inherited ones included (the SCIM controllers share a base class). */
function methodNamesOf(controller: Type<unknown>): Set<string> {
  const names = new Set<string>();
  for (
    let prototype: object | null = controller.prototype as object;
    prototype !== null && prototype !== Object.prototype;
    prototype = Object.getPrototypeOf(prototype)
  ) {
    for (const name of Object.getOwnPropertyNames(prototype)) if (name !== 'constructor') names.add(name);
  }
  return names;
}

/** Every route of the app's controllers with what its handler reads (a body, a query), as the document should show it. */
export function routeInputsOf(app: INestApplication): RouteInputs[] {
  const routes: RouteInputs[] = [];
  for (const module of app.get(ModulesContainer).values()) {
    for (const wrapper of module.controllers.values()) {
      const controller = wrapper.metatype as Type<unknown> | null;
      if (!controller) continue;
      const base = Reflect.getMetadata(PATH_METADATA, controller) as string | string[] | undefined;
      for (const name of methodNamesOf(controller)) {
        const handler = (controller.prototype as Record<string, unknown>)[name];
        if (typeof handler !== 'function') continue;
        const path = Reflect.getMetadata(PATH_METADATA, handler) as string | string[] | undefined;
        const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
        if (path === undefined || method === undefined) continue;
        const args = (Reflect.getMetadata(ROUTE_ARGS_METADATA, controller, name) ?? {}) as Record<string, unknown>;
        const reads = (type: number): boolean => Object.keys(args).some((key) => key.split(':')[0] === String(type));
        for (const prefix of [base ?? ''].flat()) {
          for (const suffix of [path].flat()) {
            routes.push({ method: RequestMethod[method].toLowerCase(), path: joinPath(prefix, suffix), body: reads(BODY_PARAM), query: reads(QUERY_PARAM) });
          }
        }
      }
    }
  }
  return routes;
}

/**
 * The OpenAPI document a service serves, built without starting it (Nest's preview mode: modules and routes
 * resolved, no provider instantiated, nothing connected) and the inputs its routes read: for specs that hold every
 * route to a typed document. The kit's configuration is read when the app module is imported: give it Kafka and
 * MongoDB addresses (they are never dialled).
 */
export async function previewServiceOpenApi(appModule: Type<unknown>, serviceName: string): Promise<{ document: OpenAPIObject; routes: RouteInputs[] }> {
  const app = await NestFactory.create(appModule, { preview: true, logger: false, abortOnError: false });
  try {
    return { document: buildServiceOpenApiDocument(app, serviceName), routes: routeInputsOf(app) };
  } finally {
    await app.close().catch(() => undefined);
  }
}
