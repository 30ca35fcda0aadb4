import { ROOT_CONTEXT, SpanKind, SpanStatusCode, context, propagation, trace } from '@opentelemetry/api';
import type { Attributes, Context, TextMapGetter } from '@opentelemetry/api';
import type { Envelope } from '@grantline/contracts';
import type { HandlerOutput } from './ports';

/**
 * W3C trace context across Kafka (`traceparent` / `tracestate` record headers), so one access request is one trace
 * from the HTTP call through every service that reacts to it. Only `@opentelemetry/api` is used here: without an SDK
 * registered in the process (the service kit registers one) every call below is a no-op and no header is written.
 */
const tracer = trace.getTracer('@grantline/messaging');

/** The trace headers an output must carry, fixed when its handler returned (the runner sends it later, elsewhere). */
const stamped = new WeakMap<Envelope, Readonly<Record<string, string>>>();

export type TraceHeaders = Readonly<Record<string, string>>;

const headerGetter: TextMapGetter<TraceHeaders | undefined> = {
  keys: (carrier) => Object.keys(carrier ?? {}),
  get: (carrier, key) => carrier?.[key],
};

function headersOf(ctx: Context): TraceHeaders {
  const carrier: Record<string, string> = {};
  propagation.inject(ctx, carrier);
  return carrier;
}

/** The trace headers of a record being produced: those its handler was running in, else the caller's active trace. */
export function traceHeadersFor(event: Envelope): TraceHeaders {
  return stamped.get(event) ?? headersOf(context.active());
}

/** Pins every output event to the trace `ctx` belongs to. */
export function stampOutputs(outputs: readonly HandlerOutput[], ctx: Context = context.active()): void {
  const headers = headersOf(ctx);
  if (Object.keys(headers).length === 0) return;
  for (const output of outputs) for (const event of output.events) stamped.set(event, headers);
}

/** Pins each output event to the trace of the consumed event that caused it (a batch handles many traces at once). */
export function stampOutputsByCause(outputs: readonly HandlerOutput[], causes: ReadonlyMap<string, TraceHeaders | undefined>): void {
  for (const output of outputs) {
    for (const event of output.events) {
      const cause = event.causationid === undefined ? undefined : causes.get(event.causationid);
      if (cause?.['traceparent'] !== undefined) stamped.set(event, { ...cause });
    }
  }
}

/** The context a consumed record's headers carry (the root context when it has none). */
export function contextOf(headers: TraceHeaders | undefined): Context {
  return propagation.extract(ROOT_CONTEXT, headers, headerGetter);
}

/** Runs `work` in a consumer span that continues the trace of the record's headers; errors are recorded on it. */
export function inConsumerSpan<T>(name: string, headers: TraceHeaders | undefined, attributes: Attributes, work: () => Promise<T>): Promise<T> {
  return tracer.startActiveSpan(name, { kind: SpanKind.CONSUMER, attributes }, contextOf(headers), async (span) => {
    try {
      return await work();
    } catch (error) {
      span.recordException(error instanceof Error ? error : String(error));
      span.setStatus({ code: SpanStatusCode.ERROR });
      throw error;
    } finally {
      span.end();
    }
  });
}
