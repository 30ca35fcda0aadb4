import { canonicalValue, findAttribute, isJsonObject, keyOf, resolveAttribute } from './scim-attributes.schema';
import type { Json, JsonObject, ResolvedAttribute, ScimAttribute, ScimResourceType } from './scim-attributes.schema';
import { elementScope, equalitiesOf, matchesFilter } from './scim-filter.matcher';
import { ScimSyntaxError, attrPathOf, parsePath } from './scim-filter.parser';
import type { PatchPath } from './scim-filter.parser';
import { ScimError } from './scim.error';

/**
 * RFC 7644 §3.5.2 PatchOp, applied to a canonical SCIM representation (see canonicalResource). Pure: returns a new
 * representation, which the caller validates against the resource schema like a PUT body before anything is
 * written. Beyond the RFC's own examples it accepts what Azure AD and Okta send:
 * - operation names in any case (`Replace`);
 * - no `path` and a value object whose keys are paths (`"name.givenName"`, the enterprise extension's URN, or
 *   `"urn:...:enterprise:2.0:User:manager"`); read-only attributes echoed there (`id`, `meta`) are ignored;
 * - `remove` of `members` with a `value` listing the members to remove (Azure AD), not all of them;
 * - `add`/`replace` of `emails[type eq "work"].value` on a user without a work email creates that email.
 * The manager given as a bare string is normalised by the user schema, as it may come in a POST too.
 */

export type PatchOperationName = 'add' | 'remove' | 'replace';

export interface PatchOperation {
  readonly op: PatchOperationName;
  readonly path?: string;
  readonly value?: Json;
}

interface Target {
  readonly label: string;
  /** The operation came from a value object without a path: read-only attributes there are echoes, ignored. */
  readonly echoed: boolean;
}

const listOf = (value: Json | undefined): Json[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);

/** Two values of a multi-valued attribute are the same value when their `value` is (a member, an email address). */
function sameValue(a: Json, b: Json): boolean {
  if (isJsonObject(a) && isJsonObject(b) && a['value'] !== undefined && b['value'] !== undefined) return a['value'] === b['value'];
  return JSON.stringify(a) === JSON.stringify(b);
}

/** RFC 7643 §2.4: at most one value is primary; a value made primary now demotes the others. */
function keepOnePrimary(values: Json[], promoted: readonly Json[]): Json[] {
  if (!promoted.some((value) => isJsonObject(value) && value['primary'] === true)) return values;
  return values.map((value) => (isJsonObject(value) && value['primary'] === true && !promoted.includes(value) ? { ...value, primary: false } : value));
}

function containerOf(resource: JsonObject, resolved: ResolvedAttribute, create: boolean): JsonObject | undefined {
  if (resolved.extension === undefined) return resource;
  const key = keyOf(resource, resolved.extension) ?? resolved.extension;
  const existing = resource[key];
  if (isJsonObject(existing)) return existing;
  if (!create) return undefined;
  const created: JsonObject = {};
  resource[key] = created;
  return created;
}

/** Writes `value` (undefined: unassigns) and drops objects left empty, so "no manager" has one representation. */
function assign(container: JsonObject, name: string, value: Json | undefined): void {
  const key = keyOf(container, name) ?? name;
  const empty = value === undefined || (Array.isArray(value) && value.length === 0) || (isJsonObject(value) && Object.keys(value).length === 0);
  if (empty) delete container[key];
  else container[key] = value;
}

function dropEmptyExtension(resource: JsonObject, resolved: ResolvedAttribute): void {
  if (resolved.extension === undefined) return;
  const key = keyOf(resource, resolved.extension);
  const extension = key === undefined ? undefined : resource[key];
  if (key !== undefined && isJsonObject(extension) && Object.keys(extension).length === 0) delete resource[key];
}

class Applier {
  constructor(
    private readonly type: ScimResourceType,
    private readonly resource: JsonObject,
  ) {}

  run(operation: PatchOperation, index: number): void {
    const { op, path } = operation;
    if (path === undefined) {
      // RFC 7644 §3.5.2.2: remove without a path has no target.
      if (op === 'remove') throw ScimError.noTarget(`Operations[${index}]: remove needs a path`);
      if (!isJsonObject(operation.value)) throw ScimError.invalidValue(`Operations[${index}].value: without a path, value is an object of attributes`);
      for (const [key, value] of Object.entries(operation.value)) {
        if (key.toLowerCase() === 'schemas') continue;
        let target: PatchPath;
        try {
          target = { attrPath: attrPathOf(key) };
        } catch (error) {
          // Not even an attribute name: unknown, so ignored like any unknown attribute.
          if (error instanceof ScimSyntaxError) continue;
          throw error;
        }
        this.apply(op, target, value, { label: key, echoed: true });
      }
      return;
    }
    if (op !== 'remove' && operation.value === undefined) throw ScimError.invalidValue(`Operations[${index}].value: ${op} needs a value`);
    this.apply(op, parsePath(path), operation.value, { label: path, echoed: false });
  }

  private apply(op: PatchOperationName, path: PatchPath, value: Json | undefined, target: Target): void {
    const { attrPath } = path;
    const resolved = resolveAttribute(this.type, attrPath.schema, attrPath.attribute);
    // An attribute this service does not implement is ignored, as in a POST or PUT body (RFC 7644 §3.3).
    if (!resolved) return;
    const definition = resolved.definition;
    if (definition.mutability === 'readOnly') {
      if (target.echoed) return;
      throw ScimError.mutability(`${target.label}: ${definition.name} is read-only`);
    }
    if (path.valueFilter !== undefined) {
      this.applyFiltered(op, resolved, path, value, target);
    } else if (attrPath.subAttribute !== undefined) {
      this.applySubAttribute(op, resolved, attrPath.subAttribute, value, target);
    } else {
      this.applyAttribute(op, resolved, value, target);
    }
    dropEmptyExtension(this.resource, resolved);
  }

  private prepared(definition: ScimAttribute, value: Json | undefined): Json | undefined {
    return value === undefined ? undefined : canonicalValue(definition, value, true);
  }

  /** `members`, `displayName`, `name`, the enterprise extension as a whole. */
  private applyAttribute(op: PatchOperationName, resolved: ResolvedAttribute, value: Json | undefined, target: Target): void {
    const { definition } = resolved;
    const container = containerOf(this.resource, resolved, op !== 'remove');
    if (!container) return;
    const key = keyOf(container, definition.name) ?? definition.name;
    const existing = container[key];
    const prepared = this.prepared(definition, value);
    if (definition.multiValued) {
      const current = listOf(existing);
      if (op === 'remove') {
        // Azure AD removes some members with `"path": "members", "value": [{"value": "id"}]`; without a value, all go.
        const unwanted = listOf(prepared);
        assign(container, definition.name, unwanted.length === 0 ? undefined : current.filter((item) => !unwanted.some((other) => sameValue(item, other))));
        return;
      }
      const incoming = listOf(prepared);
      if (op === 'replace') {
        assign(container, definition.name, keepOnePrimary(incoming, incoming));
        return;
      }
      const added = incoming.filter((item) => !current.some((other) => sameValue(item, other)));
      const merged = current.map((item) => incoming.find((other) => sameValue(item, other)) ?? item);
      // Incoming values replace equal ones in place (by reference), so they are what a new primary is kept on.
      assign(container, definition.name, keepOnePrimary([...merged, ...added], incoming));
      return;
    }
    if (op === 'remove') {
      assign(container, definition.name, undefined);
      return;
    }
    if (definition.type === 'complex' && isJsonObject(existing) && isJsonObject(prepared)) {
      // RFC 7644 §3.5.2.1/§3.5.2.3: sub-attributes not named in the value are left as they are.
      assign(container, definition.name, { ...existing, ...prepared });
      return;
    }
    if (prepared === undefined && value !== null) throw ScimError.invalidValue(`${target.label}: no value`);
    assign(container, definition.name, prepared);
  }

  /** `name.givenName`, `urn:...:enterprise:2.0:User:manager.value`. */
  private applySubAttribute(op: PatchOperationName, resolved: ResolvedAttribute, subName: string, value: Json | undefined, target: Target): void {
    const { definition } = resolved;
    const sub = findAttribute(definition.subAttributes, subName);
    if (!sub) return;
    if (sub.mutability === 'readOnly' && !target.echoed) throw ScimError.mutability(`${target.label}: ${definition.name}.${sub.name} is read-only`);
    if (sub.mutability === 'readOnly') return;
    const container = containerOf(this.resource, resolved, op !== 'remove');
    if (!container) return;
    const prepared = op === 'remove' ? undefined : this.prepared(sub, value);
    const existing = container[keyOf(container, definition.name) ?? definition.name];
    if (definition.multiValued) {
      // Without a value filter, the sub-attribute of every value.
      const values = listOf(existing).map((item) => {
        if (!isJsonObject(item)) return item;
        const next = { ...item };
        assign(next, sub.name, prepared);
        return next;
      });
      assign(container, definition.name, values);
      return;
    }
    const parent: JsonObject = isJsonObject(existing) ? { ...existing } : {};
    assign(parent, sub.name, prepared);
    assign(container, definition.name, parent);
  }

  /** `members[value eq "2819c223"]`, `emails[type eq "work"].value`. */
  private applyFiltered(op: PatchOperationName, resolved: ResolvedAttribute, path: PatchPath, value: Json | undefined, target: Target): void {
    const { definition } = resolved;
    if (!definition.multiValued || definition.type !== 'complex')
      throw ScimError.invalidPath(`${target.label}: a value filter needs a multi-valued complex attribute, and ${definition.name} is not one`);
    const filter = path.valueFilter;
    if (filter === undefined) return;
    const sub = path.subAttribute === undefined ? undefined : findAttribute(definition.subAttributes, path.subAttribute);
    if (path.subAttribute !== undefined && !sub) return;
    if (sub?.mutability === 'readOnly') throw ScimError.mutability(`${target.label}: ${definition.name}.${sub.name} is read-only`);
    const container = containerOf(this.resource, resolved, op !== 'remove');
    if (!container) return;
    const current = listOf(container[keyOf(container, definition.name) ?? definition.name]);
    const matches = (item: Json): boolean => isJsonObject(item) && matchesFilter(filter, elementScope(item, definition.subAttributes));
    const matched = current.filter(matches);

    if (op === 'remove') {
      // Removing what is not there leaves the resource as it is: a retried removal succeeds.
      const next =
        sub === undefined
          ? current.filter((item) => !matches(item))
          : current.map((item) => (matches(item) && isJsonObject(item) ? this.without(item, sub.name) : item));
      assign(container, definition.name, next);
      return;
    }
    if (sub === undefined) {
      const prepared = this.prepared({ ...definition, multiValued: false }, value);
      if (!isJsonObject(prepared)) throw ScimError.invalidValue(`${target.label}: value is an object of ${definition.name} sub-attributes`);
      if (matched.length === 0) {
        // RFC 7644 §3.5.2.3: a replace whose value filter matches nothing has no target.
        if (op === 'replace') throw ScimError.noTarget(`${target.label}: no ${definition.name} value matches`);
        assign(container, definition.name, keepOnePrimary([...current, { ...this.equalities(definition, path), ...prepared }], [prepared]));
        return;
      }
      const next = current.map((item) => (matches(item) && isJsonObject(item) ? (op === 'replace' ? prepared : { ...item, ...prepared }) : item));
      assign(
        container,
        definition.name,
        keepOnePrimary(
          next,
          next.filter((item, i) => matches(current[i] as Json)),
        ),
      );
      return;
    }
    const prepared = this.prepared(sub, value);
    if (matched.length === 0) {
      // Azure AD sets `emails[type eq "work"].value` on users that have no work email yet: create that value.
      const equalities = equalitiesOf(filter);
      if (equalities === undefined) throw ScimError.noTarget(`${target.label}: no ${definition.name} value matches`);
      const created: JsonObject = { ...this.equalities(definition, path) };
      assign(created, sub.name, prepared);
      assign(container, definition.name, [...current, created]);
      return;
    }
    const next = current.map((item) => {
      if (!matches(item) || !isJsonObject(item)) return item;
      const before = item[keyOf(item, sub.name) ?? sub.name];
      if (sub.mutability === 'immutable' && before !== undefined && JSON.stringify(before) !== JSON.stringify(prepared)) {
        throw ScimError.mutability(`${target.label}: ${definition.name}.${sub.name} cannot change once set`);
      }
      const updated = { ...item };
      assign(updated, sub.name, prepared);
      return updated;
    });
    assign(container, definition.name, next);
  }

  private without(item: JsonObject, name: string): JsonObject {
    const next = { ...item };
    assign(next, name, undefined);
    return next;
  }

  /** The `eq` attributes of the value filter, under their canonical names, for a value the operation creates. */
  private equalities(definition: ScimAttribute, path: PatchPath): JsonObject {
    const equalities = path.valueFilter === undefined ? undefined : equalitiesOf(path.valueFilter);
    const result: JsonObject = {};
    for (const [name, value] of Object.entries(equalities ?? {})) {
      const sub = findAttribute(definition.subAttributes, name);
      if (sub && value !== null) result[sub.name] = value;
    }
    return result;
  }
}

/** Applies the operations in order, all or nothing (RFC 7644 §3.5.2: "each operation ... atomically"). */
export function applyPatch(type: ScimResourceType, resource: JsonObject, operations: readonly PatchOperation[]): JsonObject {
  const working = structuredClone(resource);
  const applier = new Applier(type, working);
  operations.forEach((operation, index) => applier.run(operation, index));
  return working;
}
