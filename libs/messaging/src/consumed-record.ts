import { toCloudEvent } from '@grantline/contracts';
import type { Envelope } from '@grantline/contracts';
import type { DeadLetterOrigin } from './dead-letter';

/**
 * CloudEvents Kafka protocol binding, structured content mode (ADR 0027): the whole event is the value and the
 * `content-type` header says so. No `ce_` header: those belong to binary mode, and a receiver that saw them beside a
 * structured value could take the value for the data.
 */
const HEADER_CONTENT_TYPE = 'application/cloudevents+json; charset=utf-8';

/** One envelope as a log record, whatever the transport: every transport writes the same bytes. */
export interface EncodedRecord {
  /** The subject (the aggregate), so one aggregate's events share a partition and keep their order. */
  readonly key: string;
  readonly value: string;
  readonly headers: { readonly 'content-type': string };
}

export function encodeEnvelope(event: Envelope): EncodedRecord {
  return {
    key: event.subject,
    value: JSON.stringify(toCloudEvent(event)),
    headers: { 'content-type': HEADER_CONTENT_TYPE },
  };
}

/** A consumed record as the message handler sees it: where it came from (logical names) and its bytes. */
export interface ConsumedRecord {
  readonly origin: DeadLetterOrigin;
  readonly value: Buffer | null;
  /** The record's timestamp on the log (ms since the epoch, as Kafka gives it), when the transport has one. */
  readonly timestamp?: string;
  /** The W3C trace context headers the record carries (`traceparent`, `tracestate`), when it has any. */
  readonly traceHeaders?: Readonly<Record<string, string>>;
}

/** The record's JSON; throws SyntaxError for bytes that are not JSON (an empty or null value included). */
export function parseRecordValue(value: Buffer | null): unknown {
  return JSON.parse(value?.toString('utf8') ?? '');
}
