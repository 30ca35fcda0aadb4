import { Controller, Get, Header, Inject } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { AsyncApiDocument } from '@grantline/asyncapi';
import { ApiDocuments } from './api-documents';
import type { OpenApiDocument } from './openapi-merge';

/**
 * The published interfaces, public like every service's `/docs`: what a client or an integrator programs against
 * (paths, schemas, topics, event types), never data.
 */
@ApiTags('interfaces')
@Controller()
export class DocsController {
  constructor(@Inject(ApiDocuments) private readonly documents: ApiDocuments) {}

  @Get('openapi.json')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: 'The OpenAPI document of every public API on this origin (merged from the services)', security: [] })
  @ApiOkResponse({ description: 'OpenAPI 3.1; each operation names its service in x-grantline-service' })
  async openApi(): Promise<OpenApiDocument> {
    return (await this.documents.openApi()).document;
  }

  @Get('asyncapi.json')
  @ApiOperation({ summary: 'The AsyncAPI 3 document of the event log (topics, event types and their schemas)', security: [] })
  @ApiOkResponse({ description: 'AsyncAPI 3.0, generated from the contracts' })
  asyncApi(): AsyncApiDocument {
    return this.documents.asyncApiDocument();
  }
}
