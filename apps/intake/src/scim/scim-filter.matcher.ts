import { findAttribute, isJsonObject, keyOf, resolveAttribute } from './scim-attributes.schema';
import type { Json, JsonObject, ScimAttribute, ScimResourceType } from './scim-attributes.schema';
import type { AttrPath, CompareOperator, CompareValue, ScimFilter } from './scim-filter.parser';
import { ScimError } from './scim.error';

/**
 * Evaluates a parsed filter against a SCIM representation (RFC 7644 §3.4.2.2): string comparisons follow each
 * attribute's `caseExact`; a multi-valued attribute matches when any of its values does; a complex multi-valued
 * attribute compared without a sub-attribute is compared on its `value` sub-attribute.
 */

/** What an attribute path designates inside the thing a filter is evaluated against. */
export interface FilterScope {
  values(path: AttrPath): { readonly values: readonly Json[]; readonly definition?: ScimAttribute };
  elements(path: AttrPath): { readonly elements: readonly JsonObject[]; readonly subAttributes?: readonly ScimAttribute[] };
}

const listOf = (value: Json | undefined): Json[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);
const at = (object: JsonObject, name: string): Json | undefined => {
  const key = keyOf(object, name);
  return key === undefined ? undefined : object[key];
};

/** Evaluated against a whole resource: names resolve through the resource type's schemas. */
export function resourceScope(type: ScimResourceType, resource: JsonObject): FilterScope {
  const locate = (path: AttrPath): { raw: Json | undefined; definition: ScimAttribute } | undefined => {
    const resolved = resolveAttribute(type, path.schema, path.attribute);
    if (!resolved) return undefined;
    const container = resolved.extension === undefined ? resource : at(resource, resolved.extension);
    // An extension's URN, resolved as a whole, is a key of the resource like any core attribute.
    return { raw: isJsonObject(container) ? at(container, resolved.definition.name) : undefined, definition: resolved.definition };
  };
  return {
    values: (path) => {
      const found = locate(path);
      if (!found) return { values: [] };
      const { raw, definition } = found;
      const sub = path.subAttribute ?? (definition.type === 'complex' && definition.multiValued ? 'value' : undefined);
      if (sub === undefined) return { values: listOf(raw), definition };
      const subDefinition = findAttribute(definition.subAttributes, sub);
      const values = listOf(raw).flatMap((item) => (isJsonObject(item) ? listOf(at(item, sub)) : []));
      return { values, ...(subDefinition === undefined ? {} : { definition: subDefinition }) };
    },
    elements: (path) => {
      const found = locate(path);
      if (!found) return { elements: [] };
      const elements = listOf(found.raw).filter(isJsonObject);
      return { elements, ...(found.definition.subAttributes === undefined ? {} : { subAttributes: found.definition.subAttributes }) };
    },
  };
}

/** Evaluated against one element of a multi-valued attribute (inside `emails[...]`): names are its sub-attributes. */
export function elementScope(element: JsonObject, subAttributes: readonly ScimAttribute[] | undefined): FilterScope {
  return {
    values: (path) => {
      if (path.schema !== undefined || path.subAttribute !== undefined) return { values: [] };
      const definition = findAttribute(subAttributes, path.attribute);
      return { values: listOf(at(element, path.attribute)), ...(definition === undefined ? {} : { definition }) };
    },
    elements: () => ({ elements: [] }),
  };
}

const ORDERING: ReadonlySet<CompareOperator> = new Set(['gt', 'ge', 'lt', 'le']);

function normalised(value: string, definition: ScimAttribute | undefined): string {
  return definition?.caseExact === true ? value : value.toLowerCase();
}

function compareOne(actual: Json, operator: CompareOperator, expected: CompareValue, definition: ScimAttribute | undefined): boolean {
  if (typeof actual === 'string' && typeof expected === 'string') {
    if (ORDERING.has(operator) && definition?.type === 'dateTime') {
      const [a, b] = [Date.parse(actual), Date.parse(expected)];
      if (Number.isNaN(a) || Number.isNaN(b)) return false;
      return operator === 'gt' ? a > b : operator === 'ge' ? a >= b : operator === 'lt' ? a < b : a <= b;
    }
    const [a, b] = [normalised(actual, definition), normalised(expected, definition)];
    switch (operator) {
      case 'eq':
        return a === b;
      case 'ne':
        return a !== b;
      case 'co':
        return a.includes(b);
      case 'sw':
        return a.startsWith(b);
      case 'ew':
        return a.endsWith(b);
      case 'gt':
        return a > b;
      case 'ge':
        return a >= b;
      case 'lt':
        return a < b;
      case 'le':
        return a <= b;
    }
  }
  if (typeof actual === 'number' && typeof expected === 'number') {
    switch (operator) {
      case 'eq':
        return actual === expected;
      case 'ne':
        return actual !== expected;
      case 'gt':
        return actual > expected;
      case 'ge':
        return actual >= expected;
      case 'lt':
        return actual < expected;
      case 'le':
        return actual <= expected;
      case 'co':
      case 'sw':
      case 'ew':
        return false;
    }
  }
  if (operator === 'eq') return actual === expected;
  if (operator === 'ne') return actual !== expected;
  return false;
}

function compare(values: readonly Json[], operator: CompareOperator, expected: CompareValue, definition: ScimAttribute | undefined): boolean {
  // RFC 7644 §3.4.2.2: ordering on a boolean has no meaning, and is answered invalidFilter.
  if (ORDERING.has(operator) && (typeof expected === 'boolean' || expected === null || definition?.type === 'boolean')) {
    throw ScimError.invalidFilter(`filter: "${operator}" cannot compare ${definition?.name ?? 'a'} boolean or null`);
  }
  if (expected === null) return operator === 'eq' ? values.length === 0 : operator === 'ne' ? values.length > 0 : false;
  // `ne` holds when no value is equal: a multi-valued attribute with one equal value is not "not equal".
  if (operator === 'ne') return !values.some((value) => compareOne(value, 'eq', expected, definition));
  return values.some((value) => compareOne(value, operator, expected, definition));
}

const isPresent = (value: Json): boolean =>
  value !== null && value !== '' && !(Array.isArray(value) && value.length === 0) && !(isJsonObject(value) && Object.keys(value).length === 0);

export function matchesFilter(filter: ScimFilter, scope: FilterScope): boolean {
  switch (filter.kind) {
    case 'logical':
      return filter.operator === 'and'
        ? matchesFilter(filter.left, scope) && matchesFilter(filter.right, scope)
        : matchesFilter(filter.left, scope) || matchesFilter(filter.right, scope);
    case 'not':
      return !matchesFilter(filter.filter, scope);
    case 'present':
      return scope.values(filter.path).values.some(isPresent);
    case 'compare': {
      const { values, definition } = scope.values(filter.path);
      return compare(values, filter.operator, filter.value, definition);
    }
    case 'valuePath': {
      const { elements, subAttributes } = scope.elements(filter.path);
      return elements.some((element) => matchesFilter(filter.filter, elementScope(element, subAttributes)));
    }
  }
}

/**
 * The attributes of a conjunction of `eq` comparisons (`type eq "work" and primary eq true`): what an element a
 * PATCH creates for an unmatched value filter must hold. Undefined when the filter says anything else.
 */
export function equalitiesOf(filter: ScimFilter): JsonObject | undefined {
  if (filter.kind === 'compare' && filter.operator === 'eq' && filter.path.schema === undefined && filter.path.subAttribute === undefined) {
    return { [filter.path.attribute]: filter.value };
  }
  if (filter.kind === 'logical' && filter.operator === 'and') {
    const left = equalitiesOf(filter.left);
    const right = equalitiesOf(filter.right);
    return left && right ? { ...left, ...right } : undefined;
  }
  return undefined;
}
