/** The parts of an OpenAPI 3 document the coverage check reads. */
export interface OpenApiDocumentLike {
  readonly paths: Readonly<Record<string, object>>;
  readonly components?: { readonly schemas?: object };
}

/** What a route reads, from its handler's parameters: the check asks the document to describe each. */
export interface RouteInputs {
  readonly method: string;
  /** As OpenAPI writes it: `/v1/reviews/{reviewId}`. */
  readonly path: string;
  readonly body: boolean;
  readonly query: boolean;
}

const OPERATION_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/** An empty schema says nothing: `{}`, or a bare object / any with no properties, items, composition or reference. */
function isUntyped(schema: unknown): boolean {
  if (schema === null || typeof schema !== 'object') return true;
  const record = schema as Record<string, unknown>;
  const says = ['$ref', 'properties', 'items', 'oneOf', 'anyOf', 'allOf', 'enum', 'const', 'additionalProperties'].some((key) => key in record);
  if (says) return false;
  const type = record['type'];
  return type === undefined || type === 'object';
}

function untypedContent(content: unknown): string | undefined {
  if (content === null || typeof content !== 'object' || Object.keys(content).length === 0) return 'no content';
  for (const [mediaType, media] of Object.entries(content as Record<string, { schema?: unknown }>)) {
    if (isUntyped(media?.schema)) return `${mediaType} has no schema (or an empty one)`;
  }
  return undefined;
}

function refsIn(value: unknown, found: Set<string>): Set<string> {
  if (Array.isArray(value)) value.forEach((item) => refsIn(item, found));
  else if (value !== null && typeof value === 'object') {
    for (const [key, inner] of Object.entries(value)) {
      if (key === '$ref' && typeof inner === 'string') found.add(inner);
      else refsIn(inner, found);
    }
  }
  return found;
}

/**
 * Every operation of `document` whose request body or success answer says nothing about its shape: a 2xx answer with
 * no content or an empty schema (204 excepted), a request body without a schema, a route that reads a body or a query
 * the document does not describe (`routes`, from the handlers' parameters), a `$ref` that resolves nowhere and an
 * operationId used twice. Empty when the document is complete; each entry names the operation and what is missing.
 */
export function undocumentedOperationsOf(document: OpenApiDocumentLike, routes: readonly RouteInputs[] = []): string[] {
  const problems: string[] = [];
  const operationIds = new Map<string, string>();
  for (const [path, item] of Object.entries(document.paths)) {
    for (const [method, value] of Object.entries(item as Record<string, unknown>)) {
      if (!OPERATION_METHODS.includes(method)) continue;
      const operation = value as { operationId?: string; requestBody?: { content?: unknown }; responses?: Record<string, { content?: unknown }> };
      const name = `${method.toUpperCase()} ${path}`;
      if (operation.operationId !== undefined) {
        const other = operationIds.get(operation.operationId);
        if (other !== undefined) problems.push(`${name}: operationId ${operation.operationId} is also ${other}'s`);
        operationIds.set(operation.operationId, name);
      }
      if (operation.requestBody !== undefined) {
        const missing = untypedContent(operation.requestBody.content);
        if (missing !== undefined) problems.push(`${name}: request body: ${missing}`);
      }
      const successes = Object.entries(operation.responses ?? {}).filter(([status]) => /^2/.test(status));
      if (successes.length === 0) problems.push(`${name}: no 2xx answer documented`);
      for (const [status, response] of successes) {
        if (status === '204') continue;
        const missing = untypedContent(response.content);
        if (missing !== undefined) problems.push(`${name}: answer ${status}: ${missing}`);
      }
    }
  }
  for (const route of routes) {
    const name = `${route.method.toUpperCase()} ${route.path}`;
    const item = document.paths[route.path] as Record<string, unknown> | undefined;
    const operation = item?.[route.method.toLowerCase()] as { requestBody?: unknown; parameters?: { in?: string }[] } | undefined;
    if (operation === undefined) {
      problems.push(`${name}: served but not in the document`);
      continue;
    }
    if (route.body && operation.requestBody === undefined) problems.push(`${name}: reads a body the document does not describe`);
    if (route.query && !(operation.parameters ?? []).some((parameter) => parameter.in === 'query')) {
      problems.push(`${name}: reads a query the document does not describe`);
    }
  }
  const schemas = document.components?.schemas ?? {};
  for (const ref of refsIn(document.paths, new Set())) {
    const name = ref.startsWith('#/components/schemas/') ? ref.slice('#/components/schemas/'.length) : undefined;
    if (name === undefined || !(name in schemas)) problems.push(`$ref ${ref} resolves nowhere`);
  }
  return problems;
}
