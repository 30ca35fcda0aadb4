import { Inject, Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { Clock } from '@grantline/decider';
import { deterministicEventId } from '@grantline/messaging';
import type { Principal } from '@grantline/http-edge';
import { CLOCK } from '@grantline/service-kit';
import { IDEMPOTENCY_STORE, Idempotency, fingerprintOf, validateIdempotencyKey } from '../idempotency/idempotency';
import type { IdempotencyStore, StoredResponse } from '../idempotency/idempotency';

interface ResponseLike {
  status(code: number): unknown;
  setHeader(name: string, value: string): unknown;
}

/** Ids for what one call creates: derived from the Idempotency-Key when given, so a retry re-creates the same ids. */
export interface CallIds {
  id(purpose: string): string;
}

/**
 * Runs a write endpoint under the Idempotency-Key rules and writes the (possibly replayed) answer's status. The
 * path to a 2xx with a key: one insert claiming the key for this request, the work (validated before, it publishes
 * and waits for the acknowledgement), one insert of the answer; each insert grouped with the concurrent requests'
 * (see Idempotency and MongoIdempotencyStore). A key reused with another request is refused before the work.
 */
@Injectable()
export class IdempotentEndpoint {
  private readonly logger = new Logger('idempotency');
  private readonly idempotency: Idempotency;

  constructor(
    @Inject(IDEMPOTENCY_STORE) store: IdempotencyStore,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {
    this.idempotency = new Idempotency(store, {
      onUnrecorded: (id, error) =>
        this.logger.warn(
          `answer for idempotency key ${id} not stored (the event was acknowledged, the answer stands; a retry elsewhere publishes the same event id again): ${error instanceof Error ? error.message : String(error)}`,
        ),
    });
  }

  async run(
    call: { principal: Principal; key: string | undefined; method: string; route: string; body: unknown; response: ResponseLike },
    execute: (ids: CallIds) => Promise<StoredResponse>,
  ): Promise<unknown> {
    const key = validateIdempotencyKey(call.key);
    const ids: CallIds = {
      id: (purpose) => (key === undefined ? randomUUID() : deterministicEventId('intake', purpose, call.principal.subject, key)),
    };
    const outcome = await this.idempotency.run(
      { scope: call.principal.subject, key, fingerprint: fingerprintOf(call.method, call.route, call.body), now: this.clock.now() },
      () => execute(ids),
    );
    call.response.status(outcome.response.status);
    if (outcome.replayed) call.response.setHeader('Idempotent-Replayed', 'true');
    return outcome.response.body;
  }
}
