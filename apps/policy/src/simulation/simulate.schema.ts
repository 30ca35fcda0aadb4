import { z } from 'zod';
import { LIMITS } from '@grantline/contracts';
import { policyInputSchema } from '@grantline/policy-engine';

const input = policyInputSchema.shape;

/** A draft bundle sent inline: the same files a bundle directory holds. */
export const draftBundleSchema = z.strictObject({
  files: z
    .array(z.strictObject({ path: z.string().min(1).max(LIMITS.shortText), content: z.string().max(LIMITS.policyBundleChars) }))
    .min(1)
    .max(500),
});
export type DraftBundle = z.infer<typeof draftBundleSchema>;

/** The engine's own input language; `requester` defaults to the subject and `now` to the service clock. */
export const simulateBodySchema = z.strictObject({
  request: input.request,
  subject: input.subject,
  requester: input.requester.optional(),
  entitlements: input.entitlements,
  grants: input.grants,
  now: input.now.optional(),
  bundle: draftBundleSchema.optional(),
});
export type SimulateBody = z.infer<typeof simulateBodySchema>;

export const backtestBodySchema = z.strictObject({
  files: draftBundleSchema.shape.files,
  examplesPerKind: z.number().int().min(0).max(50).optional(),
});
export type BacktestBody = z.infer<typeof backtestBodySchema>;
