import { Body, Controller, HttpCode, Inject, Post, UseGuards } from '@nestjs/common';
import type { Clock } from '@grantline/decider';
import { BearerAuthGuard, PROBLEMS, RequireRoles, fieldErrorsOf, invalidInput } from '@grantline/http-edge';
import { simulate } from '@grantline/policy-engine';
import type { Bundle, Decision, RuleTrace } from '@grantline/policy-engine';
import { CLOCK } from '@grantline/service-kit';
import { POLICY_BUNDLE } from '../decisions/policy-bundle.provider';
import { compileDraftBundle, withinDraftLimits } from './draft-bundle';
import { simulateBodySchema } from './simulate.schema';

export interface SimulationResponse {
  readonly bundle: { readonly name: string; readonly version: string; readonly digest: string; readonly draft: boolean };
  readonly decision: Decision;
  readonly trace: readonly RuleTrace[];
}

/**
 * What a request would get, with every rule's outcome; records nothing and publishes nothing. For policy authors
 * and security: a simulation reveals how policy treats any person and entitlement, so it is not for every member.
 */
@Controller('v1/policy')
@UseGuards(BearerAuthGuard)
export class SimulateController {
  constructor(
    @Inject(POLICY_BUNDLE) private readonly bundle: Bundle,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  @Post('simulate')
  @HttpCode(200)
  @RequireRoles('policy-author', 'security')
  simulate(@Body() body: unknown): SimulationResponse {
    const parsed = simulateBodySchema.safeParse(body);
    if (!parsed.success) throw invalidInput(fieldErrorsOf(parsed.error), PROBLEMS.invalidBody);
    const { bundle: draft, requester, now, ...rest } = parsed.data;
    const bundle = draft ? compileDraftBundle(draft.files) : this.bundle;
    const input = {
      ...rest,
      requester: requester ?? { id: rest.subject.id, kind: rest.subject.kind, attributes: {} },
      now: now ?? this.clock.now().toISOString(),
    };
    const { decision, trace } = withinDraftLimits(() => simulate(bundle, input));
    return { bundle: { name: bundle.name, version: bundle.version, digest: bundle.digest, draft: draft !== undefined }, decision, trace };
  }
}
