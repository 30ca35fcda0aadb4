import { All, Controller, Inject, Req, Res, UseGuards } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AuthenticatedGuard, PrincipalThrottlerGuard, RouteAndTokenGuard } from '../edge/edge.guards';
import type { EdgeRequest } from '../edge/edge.guards';
import { UpstreamProxy } from './upstream-proxy';

/**
 * Every path the gateway does not answer itself: routed (404 when no row routes it), the caller authenticated (401
 * at the edge; the service verifies the token again and decides what the caller may do), rate limited (429), then
 * forwarded. Registered last, so the gateway's own routes win.
 */
@ApiExcludeController()
@Controller()
@UseGuards(RouteAndTokenGuard, PrincipalThrottlerGuard, AuthenticatedGuard)
export class ForwardController {
  constructor(@Inject(UpstreamProxy) private readonly proxy: UpstreamProxy) {}

  @All('{*path}')
  async forward(@Req() request: IncomingMessage & EdgeRequest, @Res() response: ServerResponse): Promise<void> {
    const route = request.gatewayRoute;
    if (route === undefined) throw new Error('RouteAndTokenGuard did not run');
    await this.proxy.forward(route, request, response);
  }
}
