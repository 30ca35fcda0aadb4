import { Controller, Get, Inject, NotFoundException } from '@nestjs/common';
import type { JSONWebKeySet } from 'jose';
import { INTAKE_CONFIG } from '../config/intake-config';
import type { IntakeConfig } from '../config/intake-config';

export const DEV_JWKS = Symbol('DEV_JWKS');

/** AUTH_MODE=dev only: the dev issuer's public keys, for other local services that verify the same tokens. */
@Controller('dev-issuer')
export class DevIssuerController {
  constructor(
    @Inject(INTAKE_CONFIG) private readonly config: IntakeConfig,
    @Inject(DEV_JWKS) private readonly jwks: JSONWebKeySet | undefined,
  ) {}

  @Get('jwks.json')
  keys(): JSONWebKeySet {
    if (this.config.authMode !== 'dev' || !this.jwks) throw new NotFoundException();
    return this.jwks;
  }

  @Get('.well-known/openid-configuration')
  discovery(): { issuer: string; jwks_uri: string; id_token_signing_alg_values_supported: string[] } {
    if (this.config.authMode !== 'dev') throw new NotFoundException();
    return { issuer: this.config.issuer, jwks_uri: '/dev-issuer/jwks.json', id_token_signing_alg_values_supported: ['ES256'] };
  }
}
