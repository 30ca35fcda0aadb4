import { Inject, Injectable, Logger } from '@nestjs/common';
import type { OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { CREDENTIAL_VAULT } from './credential-retrieval.controller';
import type { SealedSecretVault } from './sealed-secret.vault';

export const SWEEP_INTERVAL_MS = 60_000;

/**
 * Erases unretrieved secrets past their expiry once a minute, so a ciphertext nobody asked for does not outlive its
 * credential by more than that (a retrieval after expiry erases it at once anyway).
 */
@Injectable()
export class ExpiredSecretSweeper implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('credentials');
  private timer: NodeJS.Timeout | undefined;

  constructor(@Inject(CREDENTIAL_VAULT) private readonly vault: SealedSecretVault | null) {}

  onModuleInit(): void {
    if (!this.vault) return;
    const vault = this.vault;
    this.timer = setInterval(() => {
      vault.eraseExpired().then(
        (erased) => erased > 0 && this.logger.log({ msg: 'erased unretrieved secrets past their expiry', erased }),
        (error: unknown) => this.logger.warn({ msg: 'could not erase expired secrets', error: error instanceof Error ? error.name : 'error' }),
      );
    }, SWEEP_INTERVAL_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }
}
