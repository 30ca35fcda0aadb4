import { z } from 'zod';
import {
  CampaignTriggerSchema,
  EnvironmentSchema,
  IdSchema,
  IdentityKindSchema,
  IsoDurationSchema,
  NameSchema,
  NoAnswerActionSchema,
  SensitivitySchema,
} from '@grantline/contracts';

/** Who reviews an item: the beneficiary's manager (an NHI's: its owner's manager), the entitlement's owner, the NHI's owner, or a group. */
export const ReviewerSpecSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('manager') }),
  z.strictObject({ kind: z.literal('resource_owner') }),
  z.strictObject({ kind: z.literal('nhi_owner') }),
  z.strictObject({ kind: z.literal('group'), group: IdSchema }),
]);
export type ReviewerSpec = z.infer<typeof ReviewerSpecSchema>;

const listOf = <T extends z.ZodType>(item: T) => z.array(item).min(1).max(200).optional();

/** Which active grants a campaign takes: every listed dimension must match; an absent one matches anything. */
export const CampaignScopeSchema = z.strictObject({
  sensitivities: listOf(SensitivitySchema),
  systemIds: listOf(IdSchema),
  environments: listOf(EnvironmentSchema),
  /** `human` and the NHI kinds (service_account, ci_pipeline, ...): NHIs are reviewed like people. */
  identityKinds: listOf(IdentityKindSchema),
});
export type CampaignScope = z.infer<typeof CampaignScopeSchema>;

/**
 * One campaign definition (catalog/campaigns/*.yaml). A definition with the `schedule` trigger needs a `cadence`; the
 * event triggers (mover, owner_change, drift, sod_violation) make it a micro-certification of the affected grants.
 */
export const CampaignDefinitionSchema = z
  .strictObject({
    definitionId: IdSchema,
    name: NameSchema,
    triggers: z.array(CampaignTriggerSchema).min(1).max(6),
    cadence: IsoDurationSchema.optional(),
    scope: CampaignScopeSchema.default({}),
    reviewer: ReviewerSpecSchema,
    /** How long reviewers have, from the start (ISO-8601, fixed units: P14D, PT2H). */
    deadline: IsoDurationSchema,
    /** An unanswered item of a privileged grant is revoked whatever this says. */
    onNoAnswer: NoAnswerActionSchema,
    /** How long an escalated item stays open before it is revoked. */
    escalationDeadline: IsoDurationSchema.default('P2D'),
  })
  .superRefine((definition, ctx) => {
    if (definition.triggers.includes('schedule') && definition.cadence === undefined) {
      ctx.addIssue({ code: 'custom', path: ['cadence'], message: 'Invalid campaign: a scheduled campaign needs a cadence (ISO-8601 duration, e.g. P13W)' });
    }
    if (new Set(definition.triggers).size !== definition.triggers.length) {
      ctx.addIssue({ code: 'custom', path: ['triggers'], message: 'Invalid campaign: duplicate triggers' });
    }
  });
export type CampaignDefinition = z.infer<typeof CampaignDefinitionSchema>;

export class CampaignDefinitionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CampaignDefinitionError';
  }
}

/** Parses one definition; the error names the source and every bad field (`quarterly.yaml: reviewer.kind: ...`). */
export const parseCampaignDefinition = (raw: unknown, source: string): CampaignDefinition => {
  const parsed = CampaignDefinitionSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const fields = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`).join('; ');
  throw new CampaignDefinitionError(`${source}: invalid campaign definition: ${fields}`);
};

/** Definitions by id; two with the same id are an error naming both sources. */
export const indexDefinitions = (definitions: readonly { definition: CampaignDefinition; source: string }[]): ReadonlyMap<string, CampaignDefinition> => {
  const byId = new Map<string, { definition: CampaignDefinition; source: string }>();
  for (const entry of definitions) {
    const known = byId.get(entry.definition.definitionId);
    if (known) throw new CampaignDefinitionError(`${entry.source}: definitionId "${entry.definition.definitionId}" is already defined in ${known.source}`);
    byId.set(entry.definition.definitionId, entry);
  }
  return new Map([...byId].map(([id, entry]) => [id, entry.definition]));
};
