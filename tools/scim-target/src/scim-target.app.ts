import { timingSafeEqual } from 'node:crypto';
import express from 'express';
import type { NextFunction, Request, Response } from 'express';
import SCIMMY from 'scimmy';
import SCIMMYRouters from 'scimmy-routers';
import { z } from 'zod';
import { ScimStore, etagOf } from './scim-store';
import type { ScimKind } from './scim-store';

export const SCIM_BASE_PATH = '/scim/v2';

/** Injected answers for the next `count` SCIM requests: a status (429 with Retry-After, 503, ...) and/or a delay. */
export const faultSchema = z
  .object({
    status: z.number().int().min(400).max(599).optional(),
    retryAfterSeconds: z.number().int().min(0).max(3600).optional(),
    delayMs: z.number().int().min(0).max(120_000).optional(),
    count: z.number().int().min(1).max(1000).default(1),
    /** Only requests with this method (e.g. PATCH) take the fault. */
    method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']).optional(),
  })
  .refine((fault) => fault.status !== undefined || fault.delayMs !== undefined, { message: 'a fault needs a status or a delayMs' });
export type Fault = z.infer<typeof faultSchema>;

/** A switchable rate limit: more than `limit` requests in `windowMs` answer 429 with `Retry-After`. */
export const rateLimitSchema = z.object({
  limit: z.number().int().min(1),
  windowMs: z.number().int().min(1).max(3_600_000).default(1000),
  retryAfterSeconds: z.number().int().min(0).max(3600).default(1),
});
export type RateLimit = z.infer<typeof rateLimitSchema>;

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly at: number;
}

export interface ScimTarget {
  readonly app: express.Express;
  readonly store: ScimStore;
}

let active: ScimStore | undefined;
let declared = false;

function storeOf(): ScimStore {
  if (active === undefined) throw new SCIMMY.Types.Error(503, null as unknown as string, 'no store');
  return active;
}

/** What the handlers read of SCIMMY's resource instance. */
interface ResourceRequest {
  id?: string;
  filter?: { match(values: unknown[]): unknown[] };
}

function handlersOf(kind: ScimKind) {
  return {
    ingress: (resource: ResourceRequest, data: unknown) => storeOf().put(kind, resource.id, data as Record<string, unknown>),
    egress: (resource: ResourceRequest) => {
      const store = storeOf();
      if (resource.id !== undefined) {
        const found = store.get(kind, resource.id);
        if (found === undefined) throw new SCIMMY.Types.Error(404, null as unknown as string, `Resource ${resource.id} not found`);
        return store.view(kind, found);
      }
      const all = store.all(kind).map((stored) => store.view(kind, stored));
      return (resource.filter ? resource.filter.match(all) : all) as Record<string, unknown>[];
    },
    degress: (resource: ResourceRequest) => storeOf().remove(kind, String(resource.id)),
  };
}

/**
 * SCIMMY's resources are process-wide, so they are declared once and read the active store: one target per process
 * (the harness runs it as its own process; a spec may build one in its worker).
 */
function declareResources(): void {
  if (declared) return;
  declared = true;
  // The store hands out plain SCIM objects, which SCIMMY coerces through the resource's schema on the way out; its
  // typings want the schema classes themselves, hence the casts.
  const users = handlersOf('Users');
  SCIMMY.Resources.declare(SCIMMY.Resources.User)
    .ingress(users.ingress as never)
    .egress(users.egress as never)
    .degress(users.degress);
  const groups = handlersOf('Groups');
  SCIMMY.Resources.declare(SCIMMY.Resources.Group)
    .ingress(groups.ingress as never)
    .egress(groups.egress as never)
    .degress(groups.degress);
}

function bearerMatches(header: string | undefined, token: string): boolean {
  const given = Buffer.from(/^Bearer (.+)$/.exec(header ?? '')?.[1] ?? '');
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function scimError(res: Response, status: number, detail: string, headers: Record<string, string> = {}): void {
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  res
    .status(status)
    .type('application/scim+json')
    .send({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: String(status), detail });
}

/**
 * A SCIM 2.0 service provider (RFC 7643/7644) for connector tests: SCIMMY's resources and routers on express 5,
 * Users and Groups in memory, bearer-token auth, weak ETags in `meta.version` and the `ETag` header with `If-Match`
 * enforced on writes (412), writes serialised, and two switches for failure tests under `/_control`: a rate limit
 * (429 + Retry-After) and injected faults.
 */
export function createScimTarget(options: { token: string; store?: ScimStore }): ScimTarget {
  if (options.token.length < 16) throw new RangeError('the SCIM target token must be at least 16 characters');
  const store = options.store ?? new ScimStore();
  active = store;
  declareResources();

  const faults: Fault[] = [];
  let rateLimit: RateLimit | undefined;
  let windowStart = 0;
  let inWindow = 0;
  const requests: RecordedRequest[] = [];
  let writes: Promise<void> = Promise.resolve();

  const app = express();
  app.disable('x-powered-by');

  const authenticated = (req: Request, res: Response, next: NextFunction): void => {
    if (bearerMatches(req.header('authorization'), options.token)) return next();
    res.setHeader('WWW-Authenticate', 'Bearer realm="scim-target"');
    scimError(res, 401, 'a valid bearer token is required');
  };

  // The switches a test flips: `/_control` is not SCIM and never rate limited or faulted.
  const control = express.Router();
  control.use(express.json({ type: ['application/json', 'application/scim+json'] }));
  control.use(authenticated);
  control.post('/faults', (req, res) => {
    const parsed = faultSchema.safeParse(req.body);
    if (!parsed.success) return void res.status(400).send({ error: parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ') });
    faults.push(parsed.data);
    res.status(204).end();
  });
  control.delete('/faults', (_req, res) => {
    faults.length = 0;
    res.status(204).end();
  });
  control.put('/rate-limit', (req, res) => {
    const parsed = rateLimitSchema.nullable().safeParse(req.body?.rateLimit ?? null);
    if (!parsed.success) return void res.status(400).send({ error: parsed.error.issues.map((i) => `rateLimit.${i.path.join('.')}: ${i.message}`).join('; ') });
    rateLimit = parsed.data ?? undefined;
    inWindow = 0;
    res.status(204).end();
  });
  control.get('/requests', (_req, res) => void res.send({ requests }));
  control.delete('/requests', (_req, res) => {
    requests.length = 0;
    res.status(204).end();
  });
  app.use('/_control', control);

  app.get('/health', (_req, res) => void res.send({ status: 'up', users: store.all('Users').length, groups: store.all('Groups').length }));

  app.use(SCIM_BASE_PATH, (req, res, next) => {
    const at = Date.now();
    res.on('finish', () => {
      requests.push({ method: req.method, path: req.originalUrl, status: res.statusCode, at });
      if (requests.length > 500) requests.splice(0, requests.length - 500);
    });
    next();
  });
  app.use(SCIM_BASE_PATH, authenticated);

  app.use(SCIM_BASE_PATH, (req, res, next) => {
    const index = faults.findIndex((fault) => fault.method === undefined || fault.method === req.method);
    if (index >= 0) {
      const fault = faults[index] as Fault;
      fault.count -= 1;
      if (fault.count <= 0) faults.splice(index, 1);
      const answer = (): void => {
        if (fault.status === undefined) return next();
        const headers: Record<string, string> = fault.retryAfterSeconds === undefined ? {} : { 'Retry-After': String(fault.retryAfterSeconds) };
        scimError(res, fault.status, `injected fault ${fault.status}`, headers);
      };
      if (fault.delayMs === undefined) return answer();
      setTimeout(answer, fault.delayMs).unref();
      return;
    }
    if (rateLimit !== undefined) {
      const now = Date.now();
      if (now - windowStart >= rateLimit.windowMs) {
        windowStart = now;
        inWindow = 0;
      }
      inWindow += 1;
      if (inWindow > rateLimit.limit) {
        return scimError(res, 429, 'too many requests', { 'Retry-After': String(rateLimit.retryAfterSeconds) });
      }
    }
    next();
  });

  // Express 5 parses `req.query` afresh on every read, so SCIMMY's routers could not turn startIndex/count into
  // numbers and would ignore pagination: the parsed query is pinned once, as a plain writable object.
  app.use(SCIM_BASE_PATH, (req, _res, next) => {
    Object.defineProperty(req, 'query', { value: { ...req.query }, writable: true, configurable: true, enumerable: true });
    next();
  });

  // Writes run one at a time, so a read-modify-write PATCH cannot lose another's change, and If-Match is checked
  // against the version the write will actually replace.
  app.use(SCIM_BASE_PATH, (req, res, next) => {
    if (!['POST', 'PUT', 'PATCH', 'DELETE'].includes(req.method)) return next();
    const previous = writes;
    let release = (): void => undefined;
    writes = new Promise<void>((resolve) => (release = resolve));
    res.once('finish', release);
    res.once('close', release);
    void previous.then(() => {
      const match = /^\/(Users|Groups)\/([^/?]+)/.exec(req.path);
      const ifMatch = req.header('if-match');
      if (match !== null && ifMatch !== undefined && ifMatch !== '*') {
        const current = store.get(match[1] as ScimKind, decodeURIComponent(match[2] as string));
        if (current !== undefined && !ifMatch.split(',').some((tag) => tag.trim() === etagOf(current))) {
          return scimError(res, 412, `version mismatch: the resource is at ${etagOf(current)}`, { ETag: etagOf(current) });
        }
      }
      next();
    });
  });

  // A single resource's version is also its ETag header (RFC 7644 §3.14).
  app.use(SCIM_BASE_PATH, (_req, res, next) => {
    const json = res.json.bind(res);
    res.json = (body: unknown) => {
      const version = (body as { meta?: { version?: unknown } } | null)?.meta?.version;
      if (typeof version === 'string' && !res.headersSent) res.setHeader('ETag', version);
      return json(body);
    };
    next();
  });

  const routers = new SCIMMYRouters({
    type: 'bearer',
    docUri: 'https://datatracker.ietf.org/doc/html/rfc6750',
    // The bearer token was checked above; this names the caller for /Me, which the target does not serve.
    handler: () => 'grantline-connector',
  });
  SCIMMY.Config.set({ etag: { supported: true }, filter: { supported: true, maxResults: 200 } });
  app.use(SCIM_BASE_PATH, routers as unknown as express.Router);
  return { app, store };
}
