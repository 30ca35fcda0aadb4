import { z } from 'zod';
import { IdSchema, IsoDurationSchema } from '@grantline/contracts';
import { DEFAULT_APPROVAL_POLICY } from '../domain/approval.policy';
import type { ApprovalPolicy } from '../domain/approval.policy';

export const APPROVAL_CONFIG = Symbol('APPROVAL_CONFIG');

export type AuthMode = 'oidc' | 'dev';

export interface ApprovalConfig {
  readonly policy: ApprovalPolicy;
  /** `dev` trusts the X-Grantline-Principal header: for local use only, never in production. */
  readonly authMode: AuthMode;
  readonly oidc?: { readonly issuer: string; readonly audience: string; readonly jwksUrl: string };
}

const GroupsSchema = z.record(IdSchema, z.array(IdSchema).max(1000));

const EnvSchema = z.object({
  AUTH_MODE: z.enum(['oidc', 'dev']).default('oidc'),
  OIDC_ISSUER: z.string().min(1).optional(),
  OIDC_AUDIENCE: z.string().min(1).optional(),
  OIDC_JWKS_URL: z.url().optional(),
  APPROVAL_SECURITY_GROUP: IdSchema.default(DEFAULT_APPROVAL_POLICY.securityGroup),
  APPROVAL_THIRD_PARTY_RISK_GROUP: IdSchema.default(DEFAULT_APPROVAL_POLICY.thirdPartyRiskGroup),
  /** JSON: {"security": ["sec-1", "sec-2"]} */
  APPROVAL_GROUPS: z
    .string()
    .default('{}')
    .transform((raw, ctx) => {
      try {
        return GroupsSchema.parse(JSON.parse(raw));
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: `expected JSON {"<group>": ["<identity id>", ...]}: ${String(error)}` });
        return z.NEVER;
      }
    }),
  APPROVAL_DEFAULT_TIMEOUT: IsoDurationSchema.default(DEFAULT_APPROVAL_POLICY.defaultTaskTimeout),
  APPROVAL_ON_DEADLINE: z.enum(['escalate', 'deny']).default(DEFAULT_APPROVAL_POLICY.onDeadline),
  BREAK_GLASS_MAX_DURATION: IsoDurationSchema.default(DEFAULT_APPROVAL_POLICY.breakGlassMaxDuration),
  BREAK_GLASS_REVIEW_WITHIN: IsoDurationSchema.default(DEFAULT_APPROVAL_POLICY.breakGlassReviewWithin),
});

export class ApprovalConfigError extends Error {}

/** The approval service's own settings from the environment; names every bad variable at once. */
export const loadApprovalConfig = (env: NodeJS.ProcessEnv = process.env): ApprovalConfig => {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    throw new ApprovalConfigError(parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; '));
  }
  const e = parsed.data;
  const oidc = e.OIDC_ISSUER && e.OIDC_AUDIENCE && e.OIDC_JWKS_URL ? { issuer: e.OIDC_ISSUER, audience: e.OIDC_AUDIENCE, jwksUrl: e.OIDC_JWKS_URL } : undefined;
  return {
    authMode: e.AUTH_MODE,
    ...(oidc ? { oidc } : {}),
    policy: {
      securityGroup: e.APPROVAL_SECURITY_GROUP,
      thirdPartyRiskGroup: e.APPROVAL_THIRD_PARTY_RISK_GROUP,
      groups: new Map(Object.entries(e.APPROVAL_GROUPS)),
      defaultTaskTimeout: e.APPROVAL_DEFAULT_TIMEOUT,
      onDeadline: e.APPROVAL_ON_DEADLINE,
      breakGlassMaxDuration: e.BREAK_GLASS_MAX_DURATION,
      breakGlassReviewWithin: e.BREAK_GLASS_REVIEW_WITHIN,
    },
  };
};
