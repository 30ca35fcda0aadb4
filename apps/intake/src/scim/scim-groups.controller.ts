import { Body, Controller, Delete, Get, Header, Headers, HttpCode, Param, Patch, Post, Put, Query, Req, Res, UseFilters, UseGuards } from '@nestjs/common';
import { BearerAuthGuard, CurrentPrincipal, RequireRoles } from '@grantline/http-edge';
import type { Principal } from '@grantline/http-edge';
import { SCIM_CONTENT_TYPE } from './scim-attributes.schema';
import type { JsonObject } from './scim-attributes.schema';
import { ScimErrorFilter } from './scim-error.filter';
import { ScimGroupsService } from './scim-groups.service';
import { parseListQuery } from './scim-list.schema';
import { originOf } from './scim-request.context';
import type { ScimRequestLike, ScimResponseLike } from './scim-request.context';
import { answered } from './scim-users.controller';

/** RFC 7644 §3 on /scim/v2/Groups, for the identity provider only (see ScimUsersController). */
@Controller('scim/v2/Groups')
@UseGuards(BearerAuthGuard)
@RequireRoles('identity-source')
@UseFilters(ScimErrorFilter)
export class ScimGroupsController {
  constructor(private readonly groups: ScimGroupsService) {}

  @Get()
  @Header('Content-Type', SCIM_CONTENT_TYPE)
  async list(@Query() query: Record<string, unknown>, @Req() request: ScimRequestLike): Promise<JsonObject> {
    return this.groups.list(parseListQuery(query), originOf(request));
  }

  @Get(':id')
  @Header('Content-Type', SCIM_CONTENT_TYPE)
  async get(@Param('id') id: string, @Req() request: ScimRequestLike, @Res({ passthrough: true }) response: ScimResponseLike): Promise<JsonObject> {
    return answered(response, await this.groups.get(id, originOf(request)));
  }

  @Post()
  @HttpCode(201)
  @Header('Content-Type', SCIM_CONTENT_TYPE)
  async create(@CurrentPrincipal() principal: Principal, @Body() body: unknown, @Req() request: ScimRequestLike, @Res({ passthrough: true }) response: ScimResponseLike): Promise<JsonObject> {
    return answered(response, await this.groups.create(principal, body, originOf(request)), true);
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
    return answered(response, await this.groups.replace(principal, id, body, ifMatch, originOf(request)));
  }

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
    return answered(response, await this.groups.patch(principal, id, body, ifMatch, originOf(request)));
  }

  @Delete(':id')
  @HttpCode(204)
  async remove(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Headers('if-match') ifMatch: string | undefined): Promise<void> {
    await this.groups.remove(principal, id, ifMatch);
  }
}
