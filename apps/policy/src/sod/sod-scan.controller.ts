import { Controller, HttpCode, Post, UseGuards } from '@nestjs/common';
import { z } from 'zod';
import { SodScanCompletedDataSchema, SodViolationDetectedDataSchema } from '@grantline/contracts';
import { BearerAuthGuard, CurrentPrincipal, ProblemResponses, RequireRoles, ZodResponse } from '@grantline/http-edge';
import type { Principal, ViewOf } from '@grantline/http-edge';
import { RequireLoaded } from '@grantline/service-kit';
import { PolicyStateService } from '../decisions/policy-state.service';
import { SodScanService } from './sod-scan.service';

/** The scan's answer: the summary and the violations it published, as their events on the decisions topic carry them. */
export const SodScanSummarySchema = z.object({ scan: SodScanCompletedDataSchema, violations: z.array(SodViolationDetectedDataSchema) });

/**
 * The detective SoD scan on demand. Security and platform administrators may run it: it reveals which identities
 * hold toxic combinations, and what it publishes opens reviews. It takes no input (it scans everything), so there
 * is no body to get wrong; the caller is recorded as `requestedBy`.
 */
@Controller('v1/sod')
@UseGuards(BearerAuthGuard, RequireLoaded(PolicyStateService))
export class SodScanController {
  constructor(private readonly scans: SodScanService) {}

  @Post('scans')
  @HttpCode(200)
  @RequireRoles('security', 'admin')
  @ZodResponse(200, SodScanSummarySchema, 'The scan summary and every violation it found (also published on the decisions topic)')
  @ProblemResponses(401, 403, 503)
  scan(@CurrentPrincipal() principal: Principal): Promise<ViewOf<typeof SodScanSummarySchema>> {
    return this.scans.scan('on_demand', principal.subject);
  }
}
