import { Controller, UseFilters, UseGuards } from '@nestjs/common';
import { BearerAuthGuard, RequireRoles } from '@grantline/http-edge';
import { ScimErrorFilter } from './scim-error.filter';
import { ScimResourceController } from './scim-resource.controller';
import { ScimUsersService } from './scim-users.service';

/**
 * RFC 7644 §3 on /scim/v2/Users, for the identity provider only: people are facts from their authority, so every
 * route needs the identity-source role (a refusal is a recorded 403). Errors answer in SCIM form.
 */
@Controller('scim/v2/Users')
@UseGuards(BearerAuthGuard)
@RequireRoles('identity-source')
@UseFilters(ScimErrorFilter)
export class ScimUsersController extends ScimResourceController {
  constructor(users: ScimUsersService) {
    super(users);
  }
}
