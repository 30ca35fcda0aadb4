import { Body, Controller, Delete, Get, Header, Headers, HttpCode, Param, Patch, Post, Put, Query, Req, Res, UseFilters, UseGuards } from '@nestjs/common';
import { BearerAuthGuard, CurrentPrincipal, RequireRoles } from '@grantline/http-edge';
import type { Principal } from '@grantline/http-edge';
import { SCIM_CONTENT_TYPE } from './scim-attributes.schema';
import type { JsonObject } from './scim-attributes.schema';
import { ScimErrorFilter } from './scim-error.filter';
import { parseListQuery } from './scim-list.schema';
import { originOf } from './scim-request.context';
import type { ScimRequestLike, ScimResponseLike } from './scim-request.context';
import { ScimUsersService } from './scim-users.service';
import type { ScimAnswer } from './scim-users.service';

/** Writes the answer's headers (RFC 7644 §3.14 ETag; §3.3 Location on a creation) and hands back its body. */
export function answered(response: ScimResponseLike, answer: ScimAnswer, created = false): JsonObject {
  response.setHeader('ETag', answer.etag);
  if (created) response.setHeader('Location', answer.location);
  return answer.resource;
}

/**
 * RFC 7644 §3 on /scim/v2/Users, for the identity provider only: people are facts from their authority, so every
 * route needs the identity-source role (a refusal is a recorded 403). Errors answer in SCIM form.
 */
@Controller('scim/v2/Users')
@UseGuards(BearerAuthGuard)
@RequireRoles('identity-source')
@UseFilters(ScimErrorFilter)
export class ScimUsersController {
  constructor(private readonly users: ScimUsersService) {}

  @Get()
  @Header('Content-Type', SCIM_CONTENT_TYPE)
  async list(@Query() query: Record<string, unknown>, @Req() request: ScimRequestLike): Promise<JsonObject> {
    return this.users.list(parseListQuery(query), originOf(request));
  }

  @Get(':id')
  @Header('Content-Type', SCIM_CONTENT_TYPE)
  async get(@Param('id') id: string, @Req() request: ScimRequestLike, @Res({ passthrough: true }) response: ScimResponseLike): Promise<JsonObject> {
    return answered(response, await this.users.get(id, originOf(request)));
  }

  @Post()
  @HttpCode(201)
  @Header('Content-Type', SCIM_CONTENT_TYPE)
  async create(@CurrentPrincipal() principal: Principal, @Body() body: unknown, @Req() request: ScimRequestLike, @Res({ passthrough: true }) response: ScimResponseLike): Promise<JsonObject> {
    return answered(response, await this.users.create(principal, body, originOf(request)), true);
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
    return answered(response, await this.users.replace(principal, id, body, ifMatch, originOf(request)));
  }

  /** Answers 200 with the User (RFC 7644 §3.5.2 allows 204; Azure AD and Okta read either). */
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
    return answered(response, await this.users.patch(principal, id, body, ifMatch, originOf(request)));
  }

  @Delete(':id')
  @HttpCode(204)
  async remove(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Headers('if-match') ifMatch: string | undefined): Promise<void> {
    await this.users.remove(principal, id, ifMatch);
  }
}
