import type { Envelope } from '@grantline/contracts';
import type { LogPosition } from '@grantline/messaging';

/**
 * Facts the approval service's Kafka edge receives that certification reacts to as well (identity upserts and owner
 * changes, submitted requests, `campaign_due` / `review_deadline` timers). One consumer handler per event type is all
 * the transport dispatches to, so the approval edge hands them on through this port, once its own work is done; it is
 * optional there, so the approvals module works without certification.
 */
export interface CertificationFacts {
  observe(fact: Envelope, position?: LogPosition): Promise<void>;
}

export const CERTIFICATION_FACTS = Symbol('CERTIFICATION_FACTS');
