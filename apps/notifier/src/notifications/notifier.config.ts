import { z } from 'zod';

// The defaults are the groups the approval and provisioning services addressed when they published these
// notifications themselves (APPROVAL_SECURITY_GROUP, PROVISIONING_ALERT_GROUP), so moving the writer changes no audience.
export const NotifierConfigSchema = z.object({
  /** The group told about every break-glass grant. */
  NOTIFIER_SECURITY_GROUP: z.string().regex(/^\S+$/).max(200).default('security'),
  /** The group alerted when a grant fails or cannot be removed. */
  NOTIFIER_ALERT_GROUP: z.string().regex(/^\S+$/).max(200).default('security-oncall'),
});

export interface NotifierConfig {
  readonly securityGroupId: string;
  readonly alertGroupId: string;
}

export const NOTIFIER_CONFIG = Symbol('NOTIFIER_CONFIG');

export function loadNotifierConfig(env: NodeJS.ProcessEnv = process.env): NotifierConfig {
  const parsed = NotifierConfigSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new Error(`invalid notifier configuration: ${problems.join('; ')}`);
  }
  return { securityGroupId: parsed.data.NOTIFIER_SECURITY_GROUP, alertGroupId: parsed.data.NOTIFIER_ALERT_GROUP };
}
