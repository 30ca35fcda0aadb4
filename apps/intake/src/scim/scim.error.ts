import type { z } from 'zod';
import { SCIM_SCHEMAS } from './scim-attributes.schema';

/** RFC 7644 §3.12, Table 9: the detail error keywords of a 400 (and `uniqueness` on a 409, `tooMany` on a 413). */
export type ScimType =
  'invalidFilter' | 'tooMany' | 'uniqueness' | 'mutability' | 'invalidSyntax' | 'invalidPath' | 'noTarget' | 'invalidValue' | 'invalidVers' | 'sensitive';

/** RFC 7644 §3.12: the error response body; `status` is a string there. */
export interface ScimErrorBody {
  readonly schemas: readonly [typeof SCIM_SCHEMAS.error];
  readonly status: string;
  readonly scimType?: ScimType;
  readonly detail: string;
}

/**
 * A SCIM protocol error. Plain (no Nest): the parser, PATCH applier and mappers throw it, and ScimErrorFilter
 * answers it in SCIM form. Thrown before anything is published, so a refused write writes nothing.
 */
export class ScimError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly scimType?: ScimType,
  ) {
    super(detail);
    this.name = 'ScimError';
  }

  static invalidValue(detail: string): ScimError {
    return new ScimError(400, detail, 'invalidValue');
  }

  static invalidSyntax(detail: string): ScimError {
    return new ScimError(400, detail, 'invalidSyntax');
  }

  static invalidFilter(detail: string): ScimError {
    return new ScimError(400, detail, 'invalidFilter');
  }

  static invalidPath(detail: string): ScimError {
    return new ScimError(400, detail, 'invalidPath');
  }

  static noTarget(detail: string): ScimError {
    return new ScimError(400, detail, 'noTarget');
  }

  static mutability(detail: string): ScimError {
    return new ScimError(400, detail, 'mutability');
  }

  static uniqueness(detail: string): ScimError {
    return new ScimError(409, detail, 'uniqueness');
  }

  static notFound(detail: string): ScimError {
    return new ScimError(404, detail);
  }

  /** RFC 7644 §3.14: If-Match names a version that is no longer current. */
  static preconditionFailed(detail: string): ScimError {
    return new ScimError(412, detail);
  }
}

export function scimErrorBody(status: number, detail: string, scimType?: ScimType): ScimErrorBody {
  return { schemas: [SCIM_SCHEMAS.error], status: String(status), ...(scimType === undefined ? {} : { scimType }), detail };
}

/** `emails[0].value`, `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value`: SCIM's own attribute notation. */
export function attributeNameOf(path: readonly PropertyKey[]): string {
  const [first, ...rest] = path;
  if (first === undefined) return '(body)';
  let name = String(first);
  rest.forEach((segment, index) => {
    if (typeof segment === 'number') name += `[${segment}]`;
    // An extension's attributes follow its URN after a colon (RFC 7644 §3.10).
    else name += index === 0 && name.startsWith('urn:') ? `:${String(segment)}` : `.${String(segment)}`;
  });
  return name;
}

/** Every problem zod found, each naming its attribute, for the `detail` of a 400. */
export function describeIssues(error: z.ZodError): string {
  const seen = new Set<string>();
  for (const issue of error.issues) {
    const keys = issue.code === 'unrecognized_keys' ? issue.keys.map((key) => [...issue.path, key]) : [issue.path];
    for (const path of keys) seen.add(`${attributeNameOf(path)}: ${issue.code === 'unrecognized_keys' ? 'not allowed here' : issue.message}`);
  }
  return [...seen].join('; ');
}
