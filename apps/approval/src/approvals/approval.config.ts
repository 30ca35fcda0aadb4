import { z } from 'zod';
import { IdSchema, IsoDurationSchema } from '@grantline/contracts';
import { DEFAULT_APPROVAL_POLICY } from '../domain/approval.policy';
import type { ApprovalPolicy } from '../domain/approval.policy';

export const APPROVAL_CONFIG = Symbol('APPROVAL_CONFIG');

/** The approval service's own settings; authentication is the kit's (ApiAuthModule reads AUTH_MODE, OIDC_*, ...). */
export interface ApprovalConfig {
  readonly policy: ApprovalPolicy;
  /**
   * How long a route waits for the identities or catalogue entries it needs to appear in the directory (they
   * travel on other partitions and may be consumed after the decision) before routing with what is known.
   * 0 routes at once.
   */
  readonly directoryWaitMs: number;
}

export const DEFAULT_DIRECTORY_WAIT_MS = 30_000;

const GroupsSchema = z.record(IdSchema, z.array(IdSchema).max(1000));

const EnvSchema = z.object({
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
        const why = error instanceof z.ZodError ? error.issues.map((issue) => issue.message).join(', ') : String(error);
        ctx.addIssue({ code: 'custom', message: `expected JSON {"<group>": ["<identity id>", ...]}: ${why}` });
        return z.NEVER;
      }
    }),
  APPROVAL_DEFAULT_TIMEOUT: IsoDurationSchema.default(DEFAULT_APPROVAL_POLICY.defaultTaskTimeout),
  APPROVAL_ON_DEADLINE: z.enum(['escalate', 'deny']).default(DEFAULT_APPROVAL_POLICY.onDeadline),
  BREAK_GLASS_MAX_DURATION: IsoDurationSchema.default(DEFAULT_APPROVAL_POLICY.breakGlassMaxDuration),
  BREAK_GLASS_REVIEW_WITHIN: IsoDurationSchema.default(DEFAULT_APPROVAL_POLICY.breakGlassReviewWithin),
  // At most 10 minutes: longer than that, an identity is not late but unknown.
  APPROVAL_DIRECTORY_WAIT_MS: z.coerce.number().int().min(0).max(600_000).default(DEFAULT_DIRECTORY_WAIT_MS),
});

export class ApprovalConfigError extends Error {}

/** The approval service's own settings from the environment; names every bad variable at once. */
export const loadApprovalConfig = (env: NodeJS.ProcessEnv = process.env): ApprovalConfig => {
  const parsed = EnvSchema.safeParse(Object.fromEntries(Object.entries(env).filter(([, value]) => value !== '')));
  if (!parsed.success) {
    throw new ApprovalConfigError(parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; '));
  }
  const e = parsed.data;
  return {
    directoryWaitMs: e.APPROVAL_DIRECTORY_WAIT_MS,
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
