import { NodeSDK } from '@opentelemetry/sdk-node';
import { NoopSpanProcessor } from '@opentelemetry/sdk-trace';
import type { SpanProcessor } from '@opentelemetry/sdk-trace';

export interface TelemetryOptions {
  /** Specs pass their own (an in-memory exporter); otherwise the standard OTEL_* variables decide. */
  readonly spanProcessors?: readonly SpanProcessor[];
  readonly env?: NodeJS.ProcessEnv;
}

let started: { readonly serviceName: string; readonly sdk: NodeSDK } | undefined;

/** Whether the environment asks for spans to be exported (standard OTEL_* variables). */
export function exportsTraces(env: NodeJS.ProcessEnv): boolean {
  const exporters = env['OTEL_TRACES_EXPORTER'];
  if (exporters !== undefined) return exporters.split(',').some((name) => name.trim() !== '' && name.trim() !== 'none');
  return env['OTEL_EXPORTER_OTLP_ENDPOINT'] !== undefined || env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'] !== undefined;
}

/**
 * OpenTelemetry for the process, once (the first service started in a process names it): W3C trace context, an
 * AsyncLocalStorage context manager and a tracer provider, so traces propagate through HTTP and Kafka (see
 * `@grantline/messaging`'s tracing) even when nothing is exported. Spans are exported only when the standard
 * variables ask for it (`OTEL_TRACES_EXPORTER=otlp`, `OTEL_EXPORTER_OTLP_ENDPOINT`, ...); metrics and logs have
 * their own paths (`/metrics`, stdout), so the SDK's are off unless asked for. `OTEL_SDK_DISABLED=true`: nothing.
 */
export function startTelemetry(serviceName: string, options: TelemetryOptions = {}): void {
  const env = options.env ?? process.env;
  if (started !== undefined || env['OTEL_SDK_DISABLED'] === 'true') return;
  env['OTEL_METRICS_EXPORTER'] ??= 'none';
  env['OTEL_LOGS_EXPORTER'] ??= 'none';
  const spanProcessors = options.spanProcessors ?? (exportsTraces(env) ? undefined : [new NoopSpanProcessor()]);
  const sdk = new NodeSDK({ serviceName: env['OTEL_SERVICE_NAME'] ?? serviceName, ...(spanProcessors ? { spanProcessors: [...spanProcessors] } : {}) });
  sdk.start();
  started = { serviceName, sdk };
}

/** Flushes and stops the SDK (the last spans are exported); a later start registers it again. */
export async function stopTelemetry(): Promise<void> {
  const current = started;
  started = undefined;
  await current?.sdk.shutdown();
}
