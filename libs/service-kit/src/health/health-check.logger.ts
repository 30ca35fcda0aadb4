import { Logger } from '@nestjs/common';
import type { LoggerService } from '@nestjs/common';

/**
 * What Terminus logs when a check fails. A failing readiness check is the expected answer of a starting service
 * (consumers not yet joined, state still loading) and of a standby, and the prober gets the reasons in the 503 body:
 * a warning, not an error that pages someone or shouts in `npm start` while every service comes up.
 */
export class HealthCheckLogger implements LoggerService {
  private readonly logger = new Logger('health');

  log(message: unknown): void {
    this.logger.log(message);
  }

  error(message: unknown): void {
    this.logger.warn(message);
  }

  warn(message: unknown): void {
    this.logger.warn(message);
  }
}
