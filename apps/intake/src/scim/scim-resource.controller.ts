import { Body, Delete, Get, Header, Headers, HttpCode, Param, Patch, Post, Put, Query, Req, Res } from '@nestjs/common';
import { CurrentPrincipal } from '@grantline/http-edge';
import type { Principal } from '@grantline/http-edge';
import { SCIM_CONTENT_TYPE } from './scim-attributes.schema';
import type { JsonObject } from './scim-attributes.schema';
import { parseListQuery } from './scim-list.schema';
import type { ListQuery } from './scim-list.schema';
import { originOf } from './scim-request.context';
import type { ScimRequestLike, ScimResponseLike } from './scim-request.context';
import type { ScimAnswer } from './scim-users.service';

/** What a SCIM resource type's service answers (Users and Groups alike). */
export interface ScimResourceService {
  list(query: ListQuery, origin: string): Promise<JsonObject>;
  get(id: string, origin: string): Promise<ScimAnswer>;
  create(principal: Principal, body: unknown, origin: string): Promise<ScimAnswer>;
  replace(principal: Principal, id: string, body: unknown, ifMatch: string | undefined, origin: string): Promise<ScimAnswer>;
  patch(principal: Principal, id: string, body: unknown, ifMatch: string | undefined, origin: string): Promise<ScimAnswer>;
  remove(principal: Principal, id: string, ifMatch: string | undefined): Promise<void>;
}

/** Writes the answer's headers (RFC 7644 §3.14 ETag; §3.3 Location on a creation) and hands back its body. */
export function answered(response: ScimResponseLike, answer: ScimAnswer, created = false): JsonObject {
  response.setHeader('ETag', answer.etag);
  if (created) response.setHeader('Location', answer.location);
  return answer.resource;
}

/**
 * RFC 7644 §3's routes on one resource type's endpoint, the same for /Users and /Groups; a subclass names the path,
 * its guards and its service. Nest inherits route handlers from a base class.
 */
export abstract class ScimResourceController {
  protected constructor(private readonly resources: ScimResourceService) {}

  @Get()
  @Header('Content-Type', SCIM_CONTENT_TYPE)
  async list(@Query() query: Record<string, unknown>, @Req() request: ScimRequestLike): Promise<JsonObject> {
    return this.resources.list(parseListQuery(query), originOf(request));
  }

  @Get(':id')
  @Header('Content-Type', SCIM_CONTENT_TYPE)
  async get(@Param('id') id: string, @Req() request: ScimRequestLike, @Res({ passthrough: true }) response: ScimResponseLike): Promise<JsonObject> {
    return answered(response, await this.resources.get(id, originOf(request)));
  }

  @Post()
  @HttpCode(201)
  @Header('Content-Type', SCIM_CONTENT_TYPE)
  async create(
    @CurrentPrincipal() principal: Principal,
    @Body() body: unknown,
    @Req() request: ScimRequestLike,
    @Res({ passthrough: true }) response: ScimResponseLike,
  ): Promise<JsonObject> {
    return answered(response, await this.resources.create(principal, body, originOf(request)), true);
  }

  @Put(':id')
  @Header('Content-Type', SCIM_CONTENT_TYPE)
  async replace(
    @CurrentPrincipal() principal: Principal,
    @Param('id') id: string,
    @Body() body: unknown,
    @Headers('if-match') ifMatch: string | undefined,
    @Req() request: ScimRequestLike,
    @Res({ passthrough: true }) response: ScimResponseLike,
  ): Promise<JsonObject> {
    return answered(response, await this.resources.replace(principal, id, body, ifMatch, originOf(request)));
  }

  /** Answers 200 with the resource (RFC 7644 §3.5.2 allows 204; Azure AD and Okta read either). */
  @Patch(':id')
  @Header('Content-Type', SCIM_CONTENT_TYPE)
  async patch(
    @CurrentPrincipal() principal: Principal,
    @Param('id') id: string,
    @Body() body: unknown,
    @Headers('if-match') ifMatch: string | undefined,
    @Req() request: ScimRequestLike,
    @Res({ passthrough: true }) response: ScimResponseLike,
  ): Promise<JsonObject> {
    return answered(response, await this.resources.patch(principal, id, body, ifMatch, originOf(request)));
  }

  @Delete(':id')
  @HttpCode(204)
  async remove(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Headers('if-match') ifMatch: string | undefined): Promise<void> {
    await this.resources.remove(principal, id, ifMatch);
  }
}
