import { Controller, HttpCode, Post, UseGuards } from '@nestjs/common';
import { ApiOkResponse } from '@nestjs/swagger';
import { BearerAuthGuard, CurrentPrincipal, RequireRoles } from '@grantline/http-edge';
import type { Principal } from '@grantline/http-edge';
import { RequireLoaded } from '@grantline/service-kit';
import { PolicyStateService } from '../decisions/policy-state.service';
import { SodScanService } from './sod-scan.service';
import type { SodScanSummary } from './sod-scan.service';

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
  @ApiOkResponse({ description: 'The scan summary and every violation it found (also published on the decisions topic)' })
  scan(@CurrentPrincipal() principal: Principal): Promise<SodScanSummary> {
    return this.scans.scan('on_demand', principal.subject);
  }
}
