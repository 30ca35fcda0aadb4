import { ContractViolationError, UnknownEventTypeError, ownerOfTopic } from '@grantline/contracts';
import type { DeadLetterErrorClass } from '@grantline/contracts';
import { TerminalError } from './errors';

/**
 * What the consumer runner does with a failure, decided here and nowhere else. The runner fails closed: losing an
 * event (a revocation, a leaver) is worse than stopping, so a message is only ever skipped when it can never be
 * processed by any version of any service — it is not JSON, or it breaks its contract.
 *
 * | failure                                              | decision                                         |
 * |------------------------------------------------------|--------------------------------------------------|
 * | not JSON, envelope or data invalid                   | poison: dead-letter with the reason, then commit |
 * | unknown type/version on an upstream-written topic    | poison: dead-letter (the intake rescues it)      |
 * | unknown type/version on a Grantline-written topic    | halt the partition at that offset, no commit     |
 * | any other decode failure (an upcaster bug)           | halt the partition at that offset, no commit     |
 * | anything a handler throws, TerminalError included    | retry with capped backoff until it succeeds      |
 */
export type DecodeFailureDecision =
  | { readonly action: 'dead-letter'; readonly errorClass: DeadLetterErrorClass; readonly reason: string }
  | { readonly action: 'halt'; readonly eventType: string; readonly reason: string };

/**
 * Topic owners that are systems outside Grantline (the catalogue's `TOPIC_OWNERS` names them `<system>-upstream`).
 * They may send anything; what this service cannot read is theirs to fix, not a newer Grantline release to wait for.
 */
const UPSTREAM_OWNER_SUFFIX = '-upstream';

/** Whether an external system, not a Grantline service, writes this logical (catalogue) topic. */
export function isUpstreamTopic(logicalTopic: string): boolean {
  return ownerOfTopic(logicalTopic)?.endsWith(UPSTREAM_OWNER_SUFFIX) ?? false;
}

function describe(error: unknown): string {
  // JSON.parse quotes the bytes around the error: a reason (logged, dead-lettered) must never carry them.
  if (error instanceof SyntaxError) return 'SyntaxError: value is not valid JSON';
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** The `type` a raw record claims, for the halt record when the registry could not decode it. */
function claimedType(raw: unknown): string {
  const type: unknown = raw !== null && typeof raw === 'object' ? (raw as Record<string, unknown>)['type'] : undefined;
  return typeof type === 'string' ? type : '(none)';
}

/**
 * Why a record could not be turned into an event, and what to do about it. `raw` is the parsed JSON when parsing
 * succeeded; `logicalTopic` the catalogue name of the topic it was read from.
 */
export function decideOnDecodeFailure(error: unknown, logicalTopic: string, raw?: unknown): DecodeFailureDecision {
  const reason = `undecodable message: ${describe(error)}`;
  if (error instanceof SyntaxError || error instanceof ContractViolationError) {
    return { action: 'dead-letter', errorClass: 'schema_invalid', reason };
  }
  if (error instanceof UnknownEventTypeError) {
    if (isUpstreamTopic(logicalTopic)) return { action: 'dead-letter', errorClass: 'unknown_type', reason };
    // A Grantline service wrote it, so a release of this service knows it: wait for that release at this offset.
    return { action: 'halt', eventType: error.eventType, reason: `event type unknown to this service: ${error.eventType}` };
  }
  // Neither the bytes nor the contract are at fault (an upcaster that throws): our bug, fixed by a release.
  return { action: 'halt', eventType: claimedType(raw), reason };
}

export type HandlerFailureDecision = { readonly action: 'retry'; readonly level: 'warn' | 'error' };

/**
 * Every handler failure is retried: the runner cannot tell a broken dependency from a broken event, and only the
 * latter would justify skipping. A TerminalError is logged as an error, since retrying will not help unless
 * someone fixes what the handler complained about.
 */
export function decideOnHandlerFailure(error: unknown): HandlerFailureDecision {
  return { action: 'retry', level: error instanceof TerminalError ? 'error' : 'warn' };
}
