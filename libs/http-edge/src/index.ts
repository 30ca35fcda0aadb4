export { PROBLEMS, PROBLEM_CONTENT_TYPE, PROBLEM_TYPE_BASE, ProblemException, fieldErrorsOf, invalidInput, problem } from './problem/problem-details';
export type { FieldError, FieldErrorOptions, LocatedError, ProblemDetails, ProblemError, ProblemType } from './problem/problem-details';
export { ProblemDetailsFilter, toProblem } from './problem/problem-details.filter';
export { ACCEPTED_ALGORITHMS, AuthenticationError, JwtVerifier, lazyKeys } from './auth/jwt-verifier';
export type { AuthFailureReason, JwtVerifierOptions, Principal } from './auth/jwt-verifier';
export { DEV_ISSUER, DEV_ISSUER_ALG, DEV_ISSUER_KEY_FILE, publicJwkOf, readDevIssuerJwks } from './auth/dev-issuer.keys';
export { devJwks, ensureDevIssuerKey, mintDevToken, parseTtl } from './auth/dev-issuer';
export type { DevIssuerKey, MintOptions } from './auth/dev-issuer';
export { DEFAULT_AUDIENCE, bearerAuthConfigFrom, devBearerAuth, isLoopbackHost, jwtVerifierFor } from './auth/bearer-auth.config';
export type { AuthMode, BearerAuthConfig, BearerAuthConfigProblem, BearerAuthConfigResult, BearerAuthEnv } from './auth/bearer-auth.config';
export { BearerAuthenticator } from './auth/bearer-authenticator';
export type { RequestHeaders, TokenVerifier } from './auth/bearer-authenticator';
export { DEFAULT_ROLES_CLAIM, DEFAULT_ROLE_MAPPING, GRANTLINE_ROLES, isGrantlineRole, parseRoleMap, principalKindOf, rolesOf } from './auth/roles';
export type { GrantlineRole, PrincipalKind, RoleMapping } from './auth/roles';
export {
  AccessDenied,
  DENIED_ATTEMPTS,
  DeniedAttempts,
  REQUIRED_ROLES,
  RequireRoles,
  concealed,
  forbidden,
  hasAnyRole,
  requireAnyRole,
} from './auth/authorization';
export type { DeniedAttempt, DeniedAttemptRecord, DeniedAttemptSink, DeniedAttemptsOptions } from './auth/authorization';
export { BEARER_AUTHENTICATOR, BearerAuthGuard, CurrentPrincipal } from './auth/bearer-auth.guard';
export {
  PROBLEM_OPENAPI_SCHEMA,
  PROBLEM_RESPONSES,
  PROBLEM_SCHEMA_NAME,
  ProblemResponses,
  ZodBody,
  ZodQuery,
  ZodResponse,
  openApiSchemaOf,
  problemResponse,
} from './openapi/zod-openapi';
export type { DeepReadonly, OpenApiSchema, OpenApiSchemaOptions, OpenApiTarget, ProblemStatus, ViewOf } from './openapi/zod-openapi';
export { undocumentedOperationsOf } from './openapi/openapi-coverage';
export type { OpenApiDocumentLike, RouteInputs } from './openapi/openapi-coverage';
