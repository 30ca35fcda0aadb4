import { Controller, Get, Header, Param, Query, Req, UseFilters, UseGuards } from '@nestjs/common';
import { BearerAuthGuard, RequireRoles } from '@grantline/http-edge';
import { SCIM_CONTENT_TYPE } from './scim-attributes.schema';
import type { JsonObject } from './scim-attributes.schema';
import { resourceTypeDocuments, schemaDocuments, serviceProviderConfig } from './scim-discovery.document';
import { ScimErrorFilter } from './scim-error.filter';
import { listResponse } from './scim-resource.mapper';
import { originOf } from './scim-request.context';
import type { ScimRequestLike } from './scim-request.context';
import { ScimError } from './scim.error';

/**
 * RFC 7644 §4: filtering, sorting and paging SHALL be ignored here, and a request with a `filter` SHOULD be answered
 * 403 so a client cannot believe its conditions held.
 */
function refuseFilter(query: Record<string, unknown>): void {
  if (query['filter'] !== undefined) throw new ScimError(403, 'Filtering is not supported on the discovery endpoints (RFC 7644 §4)');
}

/**
 * /ServiceProviderConfig, /Schemas, /ResourceTypes (RFC 7643 §5–§7). Authentication: RFC 7644 §4 defines these as
 * discovery endpoints retrieved with GET and does not exempt them from authentication (§2 leaves the scheme to the
 * service provider). The intake authorizes every call, and the only clients are provisioning clients, which send
 * their token on every request: so the same bearer token and identity-source role as /Users and /Groups.
 */
@Controller('scim/v2')
@UseGuards(BearerAuthGuard)
@RequireRoles('identity-source')
@UseFilters(ScimErrorFilter)
export class ScimDiscoveryController {
  @Get('ServiceProviderConfig')
  @Header('Content-Type', SCIM_CONTENT_TYPE)
  config(@Query() query: Record<string, unknown>, @Req() request: ScimRequestLike): JsonObject {
    refuseFilter(query);
    return serviceProviderConfig(originOf(request));
  }

  @Get('Schemas')
  @Header('Content-Type', SCIM_CONTENT_TYPE)
  schemas(@Query() query: Record<string, unknown>, @Req() request: ScimRequestLike): JsonObject {
    refuseFilter(query);
    const documents = schemaDocuments(originOf(request));
    return listResponse(documents.length, 1, documents);
  }

  @Get('Schemas/:id')
  @Header('Content-Type', SCIM_CONTENT_TYPE)
  schema(@Param('id') id: string, @Req() request: ScimRequestLike): JsonObject {
    const found = schemaDocuments(originOf(request)).find((document) => String(document['id']).toLowerCase() === id.toLowerCase());
    if (found === undefined) throw ScimError.notFound(`Schema ${id} not found`);
    return found;
  }

  @Get('ResourceTypes')
  @Header('Content-Type', SCIM_CONTENT_TYPE)
  resourceTypes(@Query() query: Record<string, unknown>, @Req() request: ScimRequestLike): JsonObject {
    refuseFilter(query);
    const documents = resourceTypeDocuments(originOf(request));
    return listResponse(documents.length, 1, documents);
  }

  @Get('ResourceTypes/:id')
  @Header('Content-Type', SCIM_CONTENT_TYPE)
  resourceType(@Param('id') id: string, @Req() request: ScimRequestLike): JsonObject {
    const found = resourceTypeDocuments(originOf(request)).find((document) => String(document['id']).toLowerCase() === id.toLowerCase());
    if (found === undefined) throw ScimError.notFound(`ResourceType ${id} not found`);
    return found;
  }
}
