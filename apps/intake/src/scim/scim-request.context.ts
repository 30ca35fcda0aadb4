/** The parts of express's request and response the SCIM controllers use, without depending on express's types. */
export interface ScimRequestLike {
  readonly protocol?: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

export interface ScimResponseLike {
  status(code: number): unknown;
  setHeader(name: string, value: string): unknown;
}

/**
 * `meta.location` and `$ref` are absolute URIs (RFC 7643 §3.1), under the origin the client called: the intake
 * does not know its public name behind a proxy, the client does.
 */
export function originOf(request: ScimRequestLike): string {
  const host = request.headers['host'];
  return `${request.protocol ?? 'http'}://${typeof host === 'string' && host !== '' ? host : 'localhost'}`;
}
