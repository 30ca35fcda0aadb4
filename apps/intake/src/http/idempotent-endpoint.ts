import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { Clock } from '@grantline/decider';
import { deterministicEventId } from '@grantline/messaging';
import type { Principal } from '@grantline/http-edge';
import { CLOCK } from '@grantline/service-kit';
import { IDEMPOTENCY_STORE, fingerprintOf, runIdempotently, validateIdempotencyKey } from '../idempotency/idempotency';
import type { IdempotencyStore, StoredResponse } from '../idempotency/idempotency';

interface ResponseLike {
  status(code: number): unknown;
  setHeader(name: string, value: string): unknown;
}

/** Ids for what one call creates: derived from the Idempotency-Key when given, so a retry re-creates the same ids. */
export interface CallIds {
  id(purpose: string): string;
}

/** Runs a write endpoint under the Idempotency-Key rules and writes the (possibly replayed) answer's status. */
@Injectable()
export class IdempotentEndpoint {
  constructor(
    @Inject(IDEMPOTENCY_STORE) private readonly store: IdempotencyStore,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async run(
    call: { principal: Principal; key: string | undefined; method: string; route: string; body: unknown; response: ResponseLike },
    execute: (ids: CallIds) => Promise<StoredResponse>,
  ): Promise<unknown> {
    const key = validateIdempotencyKey(call.key);
    const ids: CallIds = {
      id: (purpose) => (key === undefined ? randomUUID() : deterministicEventId('intake', purpose, call.principal.subject, key)),
    };
    const outcome = await runIdempotently(
      this.store,
      { scope: call.principal.subject, key, fingerprint: fingerprintOf(call.method, call.route, call.body), now: this.clock.now() },
      () => execute(ids),
    );
    call.response.status(outcome.response.status);
    if (outcome.replayed) call.response.setHeader('Idempotent-Replayed', 'true');
    return outcome.response.body;
  }
}
