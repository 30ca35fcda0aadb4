import { Controller, UseFilters, UseGuards } from '@nestjs/common';
import { BearerAuthGuard, RequireRoles } from '@grantline/http-edge';
import { ScimErrorFilter } from './scim-error.filter';
import { ScimGroupsService } from './scim-groups.service';
import { ScimResourceController } from './scim-resource.controller';

/** RFC 7644 §3 on /scim/v2/Groups, for the identity provider only (see ScimUsersController). */
@Controller('scim/v2/Groups')
@UseGuards(BearerAuthGuard)
@RequireRoles('identity-source')
@UseFilters(ScimErrorFilter)
export class ScimGroupsController extends ScimResourceController {
  constructor(groups: ScimGroupsService) {
    super(groups);
  }
}
