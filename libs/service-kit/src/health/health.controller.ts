import { Controller, Get, Inject } from '@nestjs/common';
import { HealthCheck, HealthCheckService, HealthIndicatorService, MongooseHealthIndicator } from '@nestjs/terminus';
import type { HealthCheckResult, HealthIndicatorResult } from '@nestjs/terminus';
import { InjectConnection } from '@nestjs/mongoose';
import type { Connection } from 'mongoose';
import { StateReadinessRegistry } from '@grantline/messaging';
import type { StateReadiness } from '@grantline/messaging';
import { MessagingHealthIndicator } from '@grantline/messaging-nest';

/** A readiness probe must answer quickly even when a dependency hangs; a slow answer is "not ready". */
export const READINESS_CHECK_TIMEOUT_MS = 2_000;

async function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * `GET /health/live`: the process is up and its event loop answers (restart it if not).
 * `GET /health/ready`: Kafka and MongoDB answer and every state the service must hold (rebuilt by replay,
 * projected read models) is loaded, so the service can do its work (send it traffic if so). A state whose load
 * fails is retried by its holder and reported here under its own name with its last error, so a degraded start
 * is never reported ready. Terminus turns a failed check into 503 with the details of each indicator.
 */
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly mongoose: MongooseHealthIndicator,
    @Inject(MessagingHealthIndicator) private readonly kafka: MessagingHealthIndicator,
    @InjectConnection() private readonly connection: Connection,
    @Inject(StateReadinessRegistry) private readonly states: StateReadinessRegistry,
  ) {}

  @Get('live')
  @HealthCheck()
  live(): Promise<HealthCheckResult> {
    return this.health.check([]);
  }

  @Get('ready')
  @HealthCheck()
  ready(): Promise<HealthCheckResult> {
    return this.health.check([
      () => this.kafkaCheck(),
      // terminus' indicator only looks at the connection state...
      () => this.mongoose.pingCheck('mongo', { connection: this.connection, timeout: READINESS_CHECK_TIMEOUT_MS }),
      // ...which stays "connected" for a while after the server died, so also ask the server.
      () => this.mongoPing(),
      ...this.states.all().map((state) => () => this.stateCheck(state)),
    ]);
  }

  /** Synchronous: a holder knows whether its state is loaded; the load itself runs (and retries) elsewhere. */
  private async stateCheck(state: StateReadiness): Promise<HealthIndicatorResult> {
    const indicator = this.indicators.check(state.name);
    if (state.isReady()) return indicator.up();
    return indicator.down({ detail: 'not loaded', lastError: state.lastError ?? 'none yet: still loading' });
  }

  private async kafkaCheck(): Promise<HealthIndicatorResult> {
    try {
      return await withTimeout(this.kafka.isHealthy('kafka'), READINESS_CHECK_TIMEOUT_MS, 'kafka');
    } catch (error) {
      return this.indicators.check('kafka').down({ detail: error instanceof Error ? error.message : String(error) });
    }
  }

  private async mongoPing(): Promise<HealthIndicatorResult> {
    const indicator = this.indicators.check('mongo-ping');
    try {
      const db = this.connection.db;
      if (!db) return indicator.down({ detail: 'not connected' });
      await withTimeout(db.admin().ping(), READINESS_CHECK_TIMEOUT_MS, 'mongo ping');
      return indicator.up({ db: db.databaseName });
    } catch (error) {
      return indicator.down({ detail: error instanceof Error ? error.message : String(error) });
    }
  }
}
