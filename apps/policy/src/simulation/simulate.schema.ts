import { z } from 'zod';
import { EngineDecisionSchema, LIMITS } from '@grantline/contracts';
import { CHANGE_KINDS, policyInputSchema } from '@grantline/policy-engine';

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

// The answers of the simulate and backtest routes: their controllers return these schemas' types.

/** The engine's decision as it computed it: the fields the decisions topic records, plus where it came from. */
export const SimulatedDecisionSchema = EngineDecisionSchema.extend({
  provenance: z.object({
    bundleName: z.string(),
    bundleVersion: z.string(),
    bundleDigest: z.string(),
    engineVersion: z.string(),
    input: policyInputSchema.describe('The exact input the decision was computed from'),
  }),
});

export const RuleTraceSchema = z.object({
  ruleId: z.string(),
  entitlementId: z.string(),
  outcome: z.enum(['matched', 'recorded', 'skipped_by_match', 'condition_false', 'condition_error']),
  detail: z.string().optional(),
});

export const SimulationResponseSchema = z.object({
  bundle: z.object({
    name: z.string(),
    version: z.string(),
    digest: z.string(),
    draft: z.boolean().describe('A draft sent with the request, not the active bundle'),
  }),
  decision: SimulatedDecisionSchema,
  trace: z.array(RuleTraceSchema).describe("Every rule's outcome for every entitlement"),
});

const DecisionSummarySchema = EngineDecisionSchema.pick({ effect: true, route: true, constraints: true, reasons: true });
const ChangeKindSchema = z.enum(CHANGE_KINDS);

export const BacktestResponseSchema = z.object({
  report: z.object({
    candidate: z.object({ name: z.string(), version: z.string(), digest: z.string() }),
    total: z.number().int(),
    counts: z.record(ChangeKindSchema, z.number().int()),
    examples: z.record(ChangeKindSchema, z.array(z.object({ requestId: z.string(), before: DecisionSummarySchema, after: DecisionSummarySchema }))),
    recordedBundles: z.record(z.string(), z.number().int()).describe('How many recorded decisions each previous bundle made'),
    errors: z.array(z.object({ requestId: z.string(), message: z.string() })).describe('The first inputs the candidate could not evaluate'),
    errorCount: z.number().int(),
  }),
  history: z.object({
    read: z.number().int().describe('Decision records read from the log (duplicates included)'),
    requests: z.number().int().describe('Distinct requests compared: the latest recorded decision of each'),
    reproduced: z.number().int(),
    fromRecord: z.number().int(),
    refusals: z.number().int(),
    invalidSnapshots: z.number().int(),
  }),
  coverage: z.object({
    complete: z.boolean(),
    stoppedBecause: z.enum(['max_requests', 'time_limit']).optional(),
    compared: z.number().int(),
  }),
  rendered: z.string().describe('The same report as the terminal command prints, without colour'),
});
