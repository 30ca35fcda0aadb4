import { Controller, Get, Inject } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { RouteTable } from '../routing/route-table';

interface HealthAnswer {
  readonly status: 'ok';
  readonly info: Readonly<Record<string, { readonly status: 'up'; readonly [detail: string]: unknown }>>;
  readonly error: Readonly<Record<string, never>>;
  readonly details: Readonly<Record<string, { readonly status: 'up'; readonly [detail: string]: unknown }>>;
}

/**
 * `GET /health/live` and `GET /health/ready`, answered in the services' (terminus) shape. The gateway holds no state
 * and needs no Kafka or MongoDB: once it listens with a valid route table it is ready. The services behind it are not
 * part of its readiness — one service down is answered 503 on its own paths, while taking the whole origin out of
 * rotation would make every API unavailable.
 */
@ApiTags('operations')
@Controller('health')
export class GatewayHealthController {
  constructor(@Inject(RouteTable) private readonly routes: RouteTable) {}

  @Get('live')
  @ApiOperation({ summary: 'Liveness', security: [] })
  @ApiOkResponse({ description: 'The process answers' })
  live(): HealthAnswer {
    return { status: 'ok', info: {}, error: {}, details: {} };
  }

  @Get('ready')
  @ApiOperation({ summary: 'Readiness', security: [] })
  @ApiOkResponse({ description: 'The gateway routes requests' })
  ready(): HealthAnswer {
    const routes = { status: 'up' as const, routes: this.routes.all().length, services: this.routes.services() };
    return { status: 'ok', info: { routes }, error: {}, details: { routes } };
  }
}
