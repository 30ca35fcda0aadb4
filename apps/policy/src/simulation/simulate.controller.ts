import { Body, Controller, HttpCode, Inject, Post, UseGuards } from '@nestjs/common';
import type { Clock } from '@grantline/decider';
import { BearerAuthGuard, PROBLEMS, ProblemResponses, RequireRoles, ZodBody, ZodResponse, fieldErrorsOf, invalidInput } from '@grantline/http-edge';
import type { ViewOf } from '@grantline/http-edge';
import { simulate } from '@grantline/policy-engine';
import type { Bundle } from '@grantline/policy-engine';
import { CLOCK } from '@grantline/service-kit';
import { POLICY_BUNDLE } from '../decisions/policy-bundle.provider';
import { compileDraftBundle, withinDraftLimits } from './draft-bundle';
import { SimulationResponseSchema, simulateBodySchema } from './simulate.schema';

export type SimulationResponse = ViewOf<typeof SimulationResponseSchema>;

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
  @ZodBody(simulateBodySchema)
  @ZodResponse(200, SimulationResponseSchema, 'The decision the request would get and every rule it went through; nothing recorded')
  @ProblemResponses(400, 401, 403)
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
