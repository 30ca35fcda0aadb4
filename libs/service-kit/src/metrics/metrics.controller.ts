import { Controller, Get, Header, Inject, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { ServiceMetrics } from './service-metrics';

interface TextResponse {
  type(contentType: string): unknown;
}

/**
 * `GET /metrics`: the service's Prometheus metrics. Public like the health probes — counts, durations, topic and
 * consumer-group names, never an identity or a request — so a scraper needs no user token; keep the port on the
 * cluster network (the services bind to loopback unless HOST says otherwise).
 */
@ApiTags('operations')
@Controller('metrics')
export class MetricsController {
  constructor(@Inject(ServiceMetrics) private readonly metrics: ServiceMetrics) {}

  @Get()
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: 'Prometheus metrics (text exposition format)', security: [] })
  @ApiProduces('text/plain')
  @ApiOkResponse({ description: 'The metrics, e.g. grantline_consumer_lag, grantline_handler_duration_seconds', schema: { type: 'string' } })
  async scrape(@Res({ passthrough: true }) response: TextResponse): Promise<string> {
    response.type(this.metrics.contentType);
    return this.metrics.render();
  }
}
