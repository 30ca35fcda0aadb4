import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { Logger, Module } from '@nestjs/common';
import type { DynamicModule } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { topicOf } from '@grantline/contracts';
import type { AccessDeniedData, EventDefinition, EventRegistry } from '@grantline/contracts';
import type { EventPublisher } from '@grantline/messaging';
import { EVENT_PUBLISHER, EVENT_REGISTRY } from '@grantline/messaging-nest';
import {
  BEARER_AUTHENTICATOR,
  BearerAuthGuard,
  BearerAuthenticator,
  DENIED_ATTEMPTS,
  DeniedAttempts,
  ProblemDetailsFilter,
  bearerAuthConfigFrom,
  jwtVerifierFor,
} from '@grantline/http-edge';
import type { BearerAuthConfig, BearerAuthEnv, DeniedAttemptRecord, DeniedAttemptsOptions } from '@grantline/http-edge';
import { ServiceConfigError } from '../config/service-config.schema';

/** The repository root, for the dev issuer's default key directory (.grantline/dev-issuer). */
const REPO_ROOT = resolve(__dirname, '../../../..');
export const DEFAULT_DEV_ISSUER_DIR = resolve(REPO_ROOT, '.grantline/dev-issuer');

export const API_AUTH_CONFIG = Symbol('API_AUTH_CONFIG');

export interface ApiAuthOptions {
  /** The refusing service, as recorded. */
  readonly serviceName: string;
  /** The service's own refusal event (on a topic it owns): see ACCESS_DENIED_EVENTS in the contracts. */
  readonly deniedEvent: EventDefinition<string, AccessDeniedData>;
  /**
   * Adds what the refusal event needs beyond the shared shape (a connector's refusal names the connector id, which
   * routes it to the connector's own topic).
   */
  readonly deniedData?: (data: AccessDeniedData) => AccessDeniedData;
  /** Defaults to process.env. */
  readonly env?: NodeJS.ProcessEnv;
  /** Specs tighten or loosen the rate limit. */
  readonly deniedAttempts?: DeniedAttemptsOptions;
}

const blank = (value: string | undefined): string | undefined => (value === undefined || value.trim() === '' ? undefined : value);

/** Reads the bearer-auth variables; a configuration that must not start (dev auth off loopback, in production) throws. */
export function apiAuthConfigFrom(env: NodeJS.ProcessEnv): BearerAuthConfig {
  const vars: BearerAuthEnv = {
    ...(blank(env['AUTH_MODE']) === undefined ? {} : { AUTH_MODE: env['AUTH_MODE'] as BearerAuthEnv['AUTH_MODE'] }),
    ...Object.fromEntries(
      ['NODE_ENV', 'OIDC_ISSUER', 'OIDC_AUDIENCE', 'OIDC_JWKS_URL', 'OIDC_JWKS_FILE', 'DEV_ISSUER_DIR', 'AUTH_ROLES_CLAIM', 'AUTH_ROLE_MAP', 'HOST']
        .filter((name) => blank(env[name]) !== undefined)
        .map((name) => [name, env[name]]),
    ),
  };
  if (vars.AUTH_MODE !== undefined && vars.AUTH_MODE !== 'dev' && vars.AUTH_MODE !== 'oidc') {
    throw new ServiceConfigError([{ variable: 'AUTH_MODE', message: 'expected dev or oidc' }]);
  }
  const result = bearerAuthConfigFrom(vars, DEFAULT_DEV_ISSUER_DIR);
  if (!result.ok) throw new ServiceConfigError(result.problems);
  return result.config;
}

/**
 * The same authentication and authorization plumbing for every service with an API: bearer tokens verified
 * against the configured issuer (or the loopback-only dev issuer), roles mapped from the token, `@RequireRoles`
 * checked by BearerAuthGuard, every error answered as problem+json, and every refused governance action
 * (AccessDenied) recorded as the service's own `*.access-denied` event, rate-limited per principal.
 */
@Module({})
export class ApiAuthModule {
  static forRoot(options: ApiAuthOptions): DynamicModule {
    const logger = new Logger('auth');
    return {
      module: ApiAuthModule,
      global: true,
      providers: [
        {
          provide: API_AUTH_CONFIG,
          useFactory: (): BearerAuthConfig => {
            const config = apiAuthConfigFrom(options.env ?? process.env);
            if (config.mode === 'dev') {
              logger.warn(`dev auth: tokens of the local dev issuer (${config.devIssuerDir}) are accepted; loopback only, never in production`);
            }
            return config;
          },
        },
        {
          provide: BEARER_AUTHENTICATOR,
          useFactory: (config: BearerAuthConfig): BearerAuthenticator => new BearerAuthenticator(jwtVerifierFor(config)),
          inject: [API_AUTH_CONFIG],
        },
        {
          provide: DENIED_ATTEMPTS,
          useFactory: (publisher: EventPublisher, registry: EventRegistry): DeniedAttempts =>
            new DeniedAttempts(
              {
                record: async (attempt: DeniedAttemptRecord): Promise<void> => {
                  const data: AccessDeniedData = {
                    principalId: attempt.principalId,
                    principalKind: attempt.principalKind,
                    roles: [...attempt.roles],
                    service: options.serviceName,
                    operation: attempt.operation.slice(0, 300),
                    ...(attempt.objectRef === undefined ? {} : { objectRef: attempt.objectRef.slice(0, 240) }),
                    status: attempt.status,
                    reason: attempt.reason.slice(0, 1_000),
                    at: attempt.at.toISOString(),
                    suppressedSincePrevious: attempt.suppressedSincePrevious,
                  };
                  const recorded = options.deniedData ? options.deniedData(data) : data;
                  const envelope = registry.encode(options.deniedEvent, recorded, {
                    id: `denied-${randomUUID()}`,
                    source: `grantline/${options.serviceName}`,
                    time: data.at,
                    subject: attempt.principalId,
                    correlationid: attempt.principalId,
                    actor: { kind: attempt.principalKind === 'person' ? 'user' : 'service', id: attempt.principalId },
                  });
                  await publisher.publish(topicOf(options.deniedEvent, recorded), [envelope]);
                },
              },
              {
                onError: (error) => logger.warn(`a refused attempt could not be recorded: ${error instanceof Error ? error.message : String(error)}`),
                ...options.deniedAttempts,
              },
            ),
          inject: [EVENT_PUBLISHER, EVENT_REGISTRY],
        },
        { provide: APP_FILTER, useClass: ProblemDetailsFilter },
        BearerAuthGuard,
      ],
      exports: [API_AUTH_CONFIG, BEARER_AUTHENTICATOR, DENIED_ATTEMPTS, BearerAuthGuard],
    };
  }
}
