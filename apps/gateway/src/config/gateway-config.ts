import { z } from 'zod';
import { LOG_LEVELS, ServiceConfigError, apiAuthConfigFrom } from '@grantline/service-kit';
import type { LogLevel } from '@grantline/service-kit';
import type { BearerAuthConfig } from '@grantline/http-edge';
import { UPSTREAM_SERVICES } from '../routing/route-table';
import type { UpstreamService } from '../routing/route-table';

export const SERVICE_NAME = 'gateway';
export const DEFAULT_PORT = 3100;
export const GATEWAY_CONFIG = Symbol('GATEWAY_CONFIG');

export interface GatewayConfig {
  readonly serviceName: string;
  readonly port: number;
  readonly host: string;
  readonly logLevel: LogLevel;
  /** Where each service listens (`GATEWAY_<SERVICE>_URL`, default `http://127.0.0.1:<its port>`). */
  readonly upstreams: Readonly<Record<UpstreamService, string>>;
  /** Requests per principal (per client address when unauthenticated) in each window. */
  readonly rateLimit: number;
  readonly rateWindowMs: number;
  /** An upstream that has not answered in this time is answered 504 (never a hang). */
  readonly upstreamTimeoutMs: number;
  /** How long a merged OpenAPI document is served before the services are asked again. */
  readonly openApiCacheMs: number;
  readonly shutdownTimeoutMs: number;
  readonly auth: BearerAuthConfig;
}

/** `connector-credentials` → `GATEWAY_CONNECTOR_CREDENTIALS_URL`. */
export const upstreamVariable = (service: UpstreamService): string => `GATEWAY_${service.toUpperCase().replace(/-/g, '_')}_URL`;

const httpUrl = z.url({ protocol: /^https?$/, error: 'expected an http(s) URL, e.g. http://127.0.0.1:3101' }).transform((url) => url.replace(/\/+$/, ''));
const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

const envSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(DEFAULT_PORT),
  HOST: z.string().min(1).default('127.0.0.1'),
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  SERVICE_NAME: z
    .string()
    .regex(/^[a-z][a-z0-9-]{0,62}$/)
    .default(SERVICE_NAME),
  GATEWAY_RATE_LIMIT: positiveInt(600),
  GATEWAY_RATE_WINDOW_MS: positiveInt(60_000),
  GATEWAY_UPSTREAM_TIMEOUT_MS: positiveInt(30_000),
  GATEWAY_OPENAPI_CACHE_MS: z.coerce.number().int().min(0).default(30_000),
  SHUTDOWN_TIMEOUT_MS: positiveInt(10_000),
});

/** Blank variables count as unset (a compose file's `FOO=`). */
const present = (env: NodeJS.ProcessEnv): Record<string, string> =>
  Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined && entry[1].trim() !== ''));

/** The gateway's configuration from its environment; every bad variable is named in one ServiceConfigError. */
export function loadGatewayConfig(env: NodeJS.ProcessEnv): GatewayConfig {
  const vars = present(env);
  const problems: { variable: string; message: string }[] = [];
  const parsed = envSchema.safeParse(vars);
  if (!parsed.success) for (const issue of parsed.error.issues) problems.push({ variable: String(issue.path[0] ?? '(env)'), message: issue.message });
  const upstreams: Partial<Record<UpstreamService, string>> = {};
  for (const service of Object.keys(UPSTREAM_SERVICES) as UpstreamService[]) {
    const variable = upstreamVariable(service);
    const url = httpUrl.safeParse(vars[variable] ?? `http://127.0.0.1:${UPSTREAM_SERVICES[service].defaultPort}`);
    if (url.success) upstreams[service] = url.data;
    else problems.push({ variable, message: url.error.issues[0]?.message ?? 'invalid' });
  }
  let auth: BearerAuthConfig | undefined;
  try {
    auth = apiAuthConfigFrom(env);
  } catch (error) {
    if (error instanceof ServiceConfigError) problems.push(...error.problems);
    else throw error;
  }
  if (!parsed.success || auth === undefined || problems.length > 0) throw new ServiceConfigError(problems);
  const config = parsed.data;
  return {
    serviceName: config.SERVICE_NAME,
    port: config.PORT,
    host: config.HOST,
    logLevel: config.LOG_LEVEL,
    upstreams: upstreams as Record<UpstreamService, string>,
    rateLimit: config.GATEWAY_RATE_LIMIT,
    rateWindowMs: config.GATEWAY_RATE_WINDOW_MS,
    upstreamTimeoutMs: config.GATEWAY_UPSTREAM_TIMEOUT_MS,
    openApiCacheMs: config.GATEWAY_OPENAPI_CACHE_MS,
    shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
    auth,
  };
}
