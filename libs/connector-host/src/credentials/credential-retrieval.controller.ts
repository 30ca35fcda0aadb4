import { Controller, Header, HttpCode, Inject, Param, Post, UseGuards } from '@nestjs/common';
import { BearerAuthGuard, CurrentPrincipal, ProblemException, concealed, invalidInput } from '@grantline/http-edge';
import type { Principal } from '@grantline/http-edge';
import { CONNECTOR_HOST_CONFIG } from '../connector-host.config';
import type { ConnectorHostConfig } from '../connector-host.config';
import { SealedSecretVault } from './sealed-secret.vault';

/** The vault when the connector hands credentials over; null when it issues none. */
export const CREDENTIAL_VAULT = Symbol('CREDENTIAL_VAULT');

const CREDENTIAL_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$/;
const GONE = { slug: 'credential-gone', title: 'The credential was already retrieved or has expired', status: 410 } as const;
const NOT_FOUND_DETAIL = (credentialId: string): string => `no credential ${credentialId} to retrieve`;

export interface RetrievedCredential {
  credentialId: string;
  type: string;
  secret: string;
  expiresAt: string;
}

/**
 * The one-time handoff of an issued secret to one of its holders (ADR 0026). Anyone else gets the 404 an unknown
 * credential gets, recorded as a refused attempt; a second retrieval, or one after expiry, gets 410. The answer is
 * never cached, and nothing here logs the secret. The path names the connector, so one origin (the gateway) can route
 * each connector host's handoff to it.
 */
@Controller('v1/connectors/:connectorId/credentials')
export class CredentialRetrievalController {
  constructor(
    @Inject(CREDENTIAL_VAULT) private readonly vault: SealedSecretVault | null,
    @Inject(CONNECTOR_HOST_CONFIG) private readonly config: ConnectorHostConfig,
  ) {}

  @Post(':credentialId/retrieval')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @Header('Pragma', 'no-cache')
  @UseGuards(BearerAuthGuard)
  async retrieve(
    @CurrentPrincipal() principal: Principal,
    @Param('connectorId') connectorId: string,
    @Param('credentialId') credentialId: string,
  ): Promise<RetrievedCredential> {
    if (!CREDENTIAL_ID.test(credentialId)) {
      throw invalidInput([{ field: 'credentialId', message: 'expected a credential id (letters, digits, ".", "_", ":", "-")' }]);
    }
    const objectRef = `credential:${credentialId}`;
    if (connectorId !== this.config.connectorId)
      throw concealed(principal, objectRef, NOT_FOUND_DETAIL(credentialId), `this is connector ${this.config.connectorId}, not ${connectorId}`);
    if (!this.vault) throw concealed(principal, objectRef, NOT_FOUND_DETAIL(credentialId), 'this connector hands over no credentials');
    const outcome = await this.vault.retrieve(credentialId, principal.subject);
    switch (outcome.status) {
      case 'unknown':
        throw concealed(principal, objectRef, NOT_FOUND_DETAIL(credentialId), outcome.reason);
      case 'gone':
        throw ProblemException.of(GONE, `credential ${credentialId} is ${outcome.reason}: a secret is handed over once, before it expires`);
      case 'handed_over':
        return { credentialId: outcome.credentialId, type: outcome.type, secret: outcome.secret, expiresAt: outcome.expiresAt.toISOString() };
    }
  }
}
