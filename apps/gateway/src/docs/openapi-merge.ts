import { OPERATIONAL_PATHS } from '../routing/route-table';
import type { RouteTable } from '../routing/route-table';

type JsonObject = { [key: string]: unknown };

/** The parts of an OpenAPI document the merge reads; the rest of each service's document is not carried over. */
export interface OpenApiDocument {
  readonly openapi: string;
  readonly info: JsonObject;
  readonly paths: Record<string, Record<string, unknown>>;
  readonly components?: Record<string, Record<string, unknown>>;
  readonly security?: readonly unknown[];
  readonly tags?: readonly { readonly name: string }[];
  readonly [extension: `x-${string}`]: unknown;
}

export const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

/** Who serves an operation of the merged document: an upstream service, or the gateway itself. */
export const SERVICE_EXTENSION = 'x-grantline-service';

export interface MergeInput {
  /** The gateway's own operations (probes, metrics, the documents). */
  readonly own: OpenApiDocument;
  /** Each service's document as it served it; undefined when it did not answer. */
  readonly services: Readonly<Record<string, OpenApiDocument | undefined>>;
}

export interface MergeResult {
  readonly document: OpenApiDocument;
  /** `service METHOD path` of operations a service documents under a path no row of the route table routes. */
  readonly unrouted: readonly string[];
  /**
   * `service METHOD path -> other` of operations a service documents under a path the table sends to another
   * service (every connector host serves `/v1/connectors/{connectorId}/credentials/{credentialId}/retrieval`; one origin routes it to one).
   */
  readonly shadowed: readonly string[];
  /** Services that did not answer with a document. */
  readonly unavailable: readonly string[];
}

/** `/v1/requests/{id}` → a concrete path the route table can match. */
const concrete = (path: string): string => path.replace(/\{[^}]+\}/g, 'x');

/** Replaces every `$ref` to a renamed component, deep. */
function renameRefs(value: unknown, renames: ReadonlyMap<string, string>): unknown {
  if (Array.isArray(value)) return value.map((item) => renameRefs(item, renames));
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, inner]) => [
      key,
      key === '$ref' && typeof inner === 'string' ? (renames.get(inner) ?? inner) : renameRefs(inner, renames),
    ]),
  );
}

const sameJson = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/**
 * One document for the one origin: every operation a service documents under a path the route table sends to it
 * (its probes, metrics and UI excluded: the gateway answers those paths itself), each marked with the service that
 * serves it; the gateway's own operations; the components they use. A component two services define differently is
 * renamed `<service>.<name>` in the second one's operations. A service's document-wide `security` moves onto its
 * operations, so the merge does not change who needs a token.
 */
export function mergeOpenApi(input: MergeInput, routes: RouteTable): MergeResult {
  const paths: Record<string, Record<string, unknown>> = {};
  const components: Record<string, Record<string, unknown>> = {};
  const tags = new Map<string, { readonly name: string }>();
  const unrouted: string[] = [];
  const shadowed: string[] = [];
  const unavailable: string[] = [];

  /** Who answers a path at the origin: `undefined` when no row routes it. */
  const add = (service: string, source: OpenApiDocument, answeredBy: (path: string) => string | undefined): void => {
    // First which of its components collide with another service's, then each stored under its final name with
    // its references (components may refer to each other) renamed.
    const renames = new Map<string, string>();
    for (const [kind, entries] of Object.entries(source.components ?? {}))
      for (const [name, definition] of Object.entries(entries)) {
        const existing = components[kind]?.[name];
        if (existing !== undefined && !sameJson(existing, definition)) renames.set(`#/components/${kind}/${name}`, `#/components/${kind}/${service}.${name}`);
      }
    for (const [kind, entries] of Object.entries(source.components ?? {})) {
      const merged = (components[kind] ??= {});
      for (const [name, definition] of Object.entries(entries)) {
        const key = renames.has(`#/components/${kind}/${name}`) ? `${service}.${name}` : name;
        merged[key] = renameRefs(definition, renames);
      }
    }
    for (const tag of source.tags ?? []) if (!tags.has(tag.name)) tags.set(tag.name, tag);
    for (const [path, item] of Object.entries(source.paths)) {
      // A service's probes, metrics and UI are its own; the gateway documents its own at those paths.
      if (service !== 'gateway' && OPERATIONAL_PATHS.includes(path)) continue;
      const answering = answeredBy(path);
      if (answering !== service) {
        for (const method of HTTP_METHODS)
          if (item[method] !== undefined)
            if (answering === undefined) unrouted.push(`${service} ${method.toUpperCase()} ${path}`);
            else shadowed.push(`${service} ${method.toUpperCase()} ${path} -> ${answering}`);
        continue;
      }
      const target = (paths[path] ??= {});
      for (const [key, operation] of Object.entries(item)) {
        const isOperation = (HTTP_METHODS as readonly string[]).includes(key);
        const renamed = renameRefs(operation, renames);
        if (!isOperation) {
          target[key] ??= renamed;
          continue;
        }
        const withSecurity = renamed as JsonObject;
        target[key] = {
          ...withSecurity,
          ...(withSecurity['security'] === undefined && source.security !== undefined ? { security: source.security } : {}),
          [SERVICE_EXTENSION]: service,
        };
      }
    }
  };

  add('gateway', input.own, () => 'gateway');
  for (const [service, source] of Object.entries(input.services)) {
    if (source === undefined) {
      unavailable.push(service);
      continue;
    }
    add(service, source, (path) => routes.match(concrete(path))?.service);
  }
  const document: OpenApiDocument = {
    // The services write 3.0 (Nest) and 3.1 (the intake's, from zod); what they use reads the same in 3.1.
    openapi: '3.1.0',
    info: {
      title: 'Grantline API',
      version: '1',
      description:
        'Every public API of Grantline on one origin (the gateway). Authenticate with an OIDC bearer token; each operation names the service ' +
        `that serves it in \`${SERVICE_EXTENSION}\`. Merged from the services' own documents when asked.`,
    },
    paths: Object.fromEntries(Object.entries(paths).sort(([a], [b]) => a.localeCompare(b))),
    components,
    tags: [...tags.values()],
    ...(unavailable.length > 0 ? { 'x-grantline-unavailable': unavailable } : {}),
    ...(unrouted.length > 0 ? { 'x-grantline-unrouted': unrouted } : {}),
    ...(shadowed.length > 0 ? { 'x-grantline-shadowed': shadowed } : {}),
  };
  return { document, unrouted, shadowed, unavailable };
}
