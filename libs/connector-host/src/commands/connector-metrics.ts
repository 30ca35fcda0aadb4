import { Inject, Injectable } from '@nestjs/common';
import { Counter, Histogram } from 'prom-client';
import { ServiceMetrics } from '@grantline/service-kit';
import { CONNECTOR_HOST_CONFIG } from '../connector-host.config';
import type { ConnectorHostConfig } from '../connector-host.config';

/** Seconds; a target usually answers in milliseconds, a retried operation can take the runner's whole backoff. */
const OPERATION_SECONDS_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

export type CommandOperation = 'provision' | 'deprovision' | 'rotate' | 'deactivate';

/**
 * What the target costs and how it fails, per connector: `grantline_connector_operation_duration_seconds` (a
 * command's whole run through the SDK runner, retries included, by outcome) and
 * `grantline_connector_operation_failures_total` (by the SDK's error code and class: a `retriable` one exhausted
 * its attempts). The revocation that never happens shows in provisioning's `grantline_revocations_overdue`; these
 * say which target is slow or refusing.
 */
@Injectable()
export class ConnectorMetrics {
  private readonly seconds: Histogram<'connector' | 'operation' | 'outcome'>;
  private readonly failures: Counter<'connector' | 'operation' | 'code' | 'error_class'>;
  private readonly connector: string;

  constructor(@Inject(ServiceMetrics) metrics: ServiceMetrics, @Inject(CONNECTOR_HOST_CONFIG) config: ConnectorHostConfig) {
    this.connector = config.connectorId;
    const registers = [metrics.registry];
    // The registry outlives an app built twice from one module (a restart in a spec): the latest app's metrics count.
    for (const name of ['grantline_connector_operation_duration_seconds', 'grantline_connector_operation_failures_total'])
      metrics.registry.removeSingleMetric(name);
    this.seconds = new Histogram({
      name: 'grantline_connector_operation_duration_seconds',
      help: 'Time for a connector command to reach its result (the target, and the runner retries, included), by operation and outcome',
      labelNames: ['connector', 'operation', 'outcome'],
      buckets: OPERATION_SECONDS_BUCKETS,
      registers,
    });
    this.failures = new Counter({
      name: 'grantline_connector_operation_failures_total',
      help: 'Connector commands that ended failed, by the SDK error code and class (retriable = attempts exhausted)',
      labelNames: ['connector', 'operation', 'code', 'error_class'],
      registers,
    });
  }

  /** Times `run` and counts its outcome; `failureOf` tells a failed result's code and class. */
  async timed<T>(
    operation: CommandOperation,
    run: () => Promise<T>,
    outcomeOf: (result: T) => { outcome: string; code?: string; errorClass?: string },
  ): Promise<T> {
    const started = process.hrtime.bigint();
    const result = await run();
    const { outcome, code, errorClass } = outcomeOf(result);
    this.seconds.observe({ connector: this.connector, operation, outcome }, Number(process.hrtime.bigint() - started) / 1e9);
    if (code !== undefined) this.failures.inc({ connector: this.connector, operation, code, error_class: errorClass ?? 'unknown' });
    return result;
  }
}
