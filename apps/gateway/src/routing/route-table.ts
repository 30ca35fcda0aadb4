/**
 * The one origin's route table: which service answers which public path. A service that adds an HTTP route under a
 * new prefix adds a row here (the gateway e2e spec fails when a service's OpenAPI document has a path no row routes
 * to it). Rows are matched by the longest prefix, on whole path segments (`/v1/audit` never catches `/v1/auditx`).
 */

/** The services behind the gateway, each with its upstream variable `GATEWAY_<NAME>_URL` and its default port. */
export const UPSTREAM_SERVICES = {
  intake: { defaultPort: 3101 },
  policy: { defaultPort: 3102 },
  approval: { defaultPort: 3103 },
  scheduler: { defaultPort: 3105 },
  audit: { defaultPort: 3106 },
  // Issues short-lived credentials and publishes the JWKS that verifies them (issue 14).
  'connector-credentials': { defaultPort: 3112 },
  // Hands over the PostgreSQL logins it mints (`database_role` credentials), once, to their holders.
  'connector-postgres': { defaultPort: 3107 },
} as const satisfies Record<string, { readonly defaultPort: number }>;

export type UpstreamService = keyof typeof UPSTREAM_SERVICES;

export interface Route {
  /** A path prefix of whole segments, starting with `/`, without a trailing `/`. */
  readonly prefix: string;
  readonly service: UpstreamService;
  /**
   * No token needed at the edge to read (GET, HEAD): key material, revocation lists and discovery documents a verifier
   * fetches before it has a token. Any other method still needs one. The service still decides (and every other
   * route's service verifies the token again: defence in depth).
   */
  readonly public?: true;
}

export const ROUTES: readonly Route[] = [
  { prefix: '/v1/requests', service: 'intake' },
  { prefix: '/v1/grants', service: 'intake' },
  { prefix: '/v1/identities', service: 'intake' },
  { prefix: '/scim/v2', service: 'intake' },
  { prefix: '/dev-issuer', service: 'intake', public: true },
  { prefix: '/v1/policy', service: 'policy' },
  { prefix: '/v1/sod', service: 'policy' },
  { prefix: '/v1/approvals', service: 'approval' },
  { prefix: '/v1/reviews', service: 'approval' },
  { prefix: '/v1/campaigns', service: 'approval' },
  { prefix: '/v1/certifications', service: 'approval' },
  { prefix: '/v1/timers', service: 'scheduler' },
  { prefix: '/v1/test-clock', service: 'scheduler' },
  { prefix: '/v1/audit', service: 'audit' },
  // Each connector host hands its credentials over under its own id (ADR 0026).
  { prefix: '/v1/connectors/credentials', service: 'connector-credentials' },
  { prefix: '/v1/connectors/postgres', service: 'connector-postgres' },
  // What anyone verifying a Grantline credential reads: the revocation list, the CA certificate and its CRL.
  { prefix: '/v1/credentials/revocations', service: 'connector-credentials', public: true },
  { prefix: '/v1/credentials/ca.pem', service: 'connector-credentials', public: true },
  { prefix: '/v1/credentials/crl', service: 'connector-credentials', public: true },
  { prefix: '/.well-known/jwks.json', service: 'connector-credentials', public: true },
];

/**
 * What each service serves for itself and the gateway never forwards: its probes, metrics and OpenAPI UI. The
 * gateway answers these paths for itself.
 */
export const OPERATIONAL_PATHS: readonly string[] = ['/health/live', '/health/ready', '/metrics', '/docs', '/docs-json'];

const PREFIX = /^(\/[A-Za-z0-9._~-]+)+$/;
/** `.` and `..` segments, raw or percent-encoded: a path that means something else once normalised is never routed. */
const DOT_SEGMENT = /(^|\/)(\.|%2e){1,2}(\/|$)/i;

/** Longest-prefix matching over a validated table; a table with a bad or duplicate prefix is refused at start. */
export class RouteTable {
  private readonly routes: readonly Route[];

  constructor(routes: readonly Route[] = ROUTES) {
    const seen = new Set<string>();
    for (const route of routes) {
      if (!PREFIX.test(route.prefix)) throw new Error(`route prefix ${JSON.stringify(route.prefix)}: expected /segment[/segment...] without a trailing slash`);
      if (seen.has(route.prefix)) throw new Error(`route prefix ${route.prefix} is routed twice`);
      if (OPERATIONAL_PATHS.some((path) => path === route.prefix || path.startsWith(`${route.prefix}/`)))
        throw new Error(`route prefix ${route.prefix} would hide the gateway's own ${OPERATIONAL_PATHS.join(', ')}`);
      seen.add(route.prefix);
    }
    // Longest first, so the first match is the most specific one.
    this.routes = [...routes].sort((a, b) => b.prefix.length - a.prefix.length);
  }

  /** The route of a request path (query string ignored), or undefined when no row routes it. */
  match(url: string): Route | undefined {
    const path = url.split(/[?#]/, 1)[0] ?? '';
    if (DOT_SEGMENT.test(path) || path.includes('//')) return undefined;
    return this.routes.find((route) => path === route.prefix || path.startsWith(`${route.prefix}/`));
  }

  /** The services at least one row routes to. */
  services(): UpstreamService[] {
    return [...new Set(this.routes.map((route) => route.service))];
  }

  all(): readonly Route[] {
    return this.routes;
  }
}
