import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import type { Envelope } from '@grantline/contracts';
import { eventually, infraEndpoints, uniqueName } from '@grantline/testing';
import { deterministicEventId } from '../event-id';
import type { RawLogRecord, RunningConsumer } from '../ports';
import { specBus } from '../testing/spec-bus';
import type { KafkaMessageBus } from './kafka-bus';

// W3C trace context across Kafka: what a handler produces continues the trace of what it consumed, so one request is
// one trace however many services it crosses. A real broker; spans kept in memory.
const { kafkaBrokers } = infraEndpoints();
const exporter = new InMemorySpanExporter();
const contextManager = new AsyncLocalStorageContextManager().enable();

beforeAll(() => {
  context.setGlobalContextManager(contextManager);
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] }));
});

afterAll(() => {
  trace.disable();
  propagation.disable();
  context.disable();
});

async function rawRecords(bus: KafkaMessageBus, topic: string): Promise<RawLogRecord[]> {
  const records: RawLogRecord[] = [];
  await bus.replayRaw({ topics: [topic], batchHandler: async (batch) => void records.push(...batch) });
  return records;
}

const header = (record: RawLogRecord, name: string): string | undefined => record.headers.find((h) => h.key === name)?.value?.toString('utf8');
const traceIdOf = (traceparent: string | undefined): string | undefined => traceparent?.split('-')[1];

describe('trace context across Kafka', () => {
  const consumers: RunningConsumer[] = [];
  afterAll(async () => {
    await Promise.all(consumers.map((consumer) => consumer.stop()));
  });

  it('given an event published in a trace, then the record carries it, the handler runs in it, and its transactional output continues it', async () => {
    const s = specBus({ brokers: kafkaBrokers, topic: uniqueName('spec.trace'), clientId: uniqueName('trace'), partitions: 1 });
    await s.ready;
    const tracer = trace.getTracer('spec');
    const seenByHandler: string[] = [];
    consumers.push(
      await s.bus.consume({
        groupId: uniqueName('trace'),
        topics: [s.topic],
        transactional: true,
        handler: async (event: Envelope) => {
          seenByHandler.push(trace.getActiveSpan()?.spanContext().traceId ?? 'none');
          const pong = s.registry.encode(s.ponged, event.data, {
            id: deterministicEventId('pong', event.id),
            source: 'grantline/messaging-spec',
            time: event.time,
            subject: event.subject,
            correlationid: event.correlationid,
            causationid: event.id,
            actor: { kind: 'system', id: 'messaging-spec' },
          });
          return [{ topic: s.outTopic, events: [pong] }];
        },
      }),
    );

    const traceId = await tracer.startActiveSpan('POST /v1/requests', async (span) => {
      await s.bus.publish(s.topic, [s.ping({ key: 'req-1', seq: 1 }, uniqueName('traced'))]);
      span.end();
      return span.spanContext().traceId;
    });

    await eventually(async () => expect(await rawRecords(s.bus, s.outTopic)).toHaveLength(1), { timeoutMs: 30_000, intervalMs: 200 });
    const [input] = await rawRecords(s.bus, s.topic);
    const [output] = await rawRecords(s.bus, s.outTopic);
    expect(traceIdOf(header(input!, 'traceparent'))).toBe(traceId);
    expect(traceIdOf(header(output!, 'traceparent'))).toBe(traceId);
    expect(seenByHandler).toEqual([traceId]);
    // The consumer span is the output's parent: the chain reads HTTP → consume → produce.
    const consumerSpan = exporter.getFinishedSpans().find((span) => span.name.startsWith('process ') && span.spanContext().traceId === traceId);
    expect(consumerSpan?.attributes).toMatchObject({ 'messaging.system': 'kafka', 'messaging.destination.name': s.topic });
    expect(header(output!, 'traceparent')?.split('-')[2]).toBe(consumerSpan?.spanContext().spanId);
  });

  it('given an event published outside any trace, then no trace header is invented for it', async () => {
    const s = specBus({ brokers: kafkaBrokers, topic: uniqueName('spec.untraced'), clientId: uniqueName('untraced'), partitions: 1 });
    await s.ready;

    await s.bus.publish(s.topic, [s.ping({ key: 'req-2', seq: 2 }, uniqueName('untraced'))]);

    const [record] = await rawRecords(s.bus, s.topic);
    expect(header(record!, 'traceparent')).toBeUndefined();
    await s.bus.disconnect();
  });
});
