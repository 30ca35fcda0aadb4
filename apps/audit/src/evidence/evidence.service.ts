import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { EVIDENCE_TOPICS, EvidenceLog, buildEvidencePack } from '@grantline/evidence';
import type { EvidencePack, EvidencePeriod } from '@grantline/evidence';
import type { MessageBus } from '@grantline/messaging';
import { MESSAGE_BUS } from '@grantline/messaging-nest';
import { CLOCK } from '@grantline/service-kit';
import { systemClock } from '@grantline/decider';
import type { Clock } from '@grantline/decider';

/**
 * Builds the evidence pack by replaying the lifecycle topics from the beginning, independent of the read models
 * (a pack is evidence from the log itself, not from a projection that could lag or be rebuilt). One replay at a
 * time: a second request waits for the first, so auditors cannot stack full-log reads on the service.
 */
@Injectable()
export class EvidenceService {
  private readonly logger = new Logger('Evidence');
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    @Inject(MESSAGE_BUS) private readonly bus: MessageBus,
    @Optional() @Inject(CLOCK) private readonly clock: Clock = systemClock,
  ) {}

  pack(period: EvidencePeriod): Promise<EvidencePack> {
    const run = this.queue.then(() => this.build(period));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async build(period: EvidencePeriod): Promise<EvidencePack> {
    const started = Date.now();
    const log = new EvidenceLog();
    // A topic no service has written yet (an audit started before the intake published the catalogue) holds nothing.
    const present = [...new Set((await this.bus.endOffsets(EVIDENCE_TOPICS)).map((end) => end.topic))];
    await this.bus.replayBatches({
      topics: present,
      batchHandler: async (events, { topic, partition, offsets }) => {
        events.forEach((event, index) => log.add({ event, position: { topic, partition, offset: offsets[index]! } }));
      },
      onInvalid: (error, origin) =>
        this.logger.warn(`evidence: skipped an undecodable record at ${origin.topic}/${origin.partition}@${origin.offset}: ${String(error)}`),
    });
    const identity = await this.bus.logIdentity();
    const pack = buildEvidencePack(log, {
      period,
      now: this.clock.now(),
      source: `kafka cluster ${identity.clusterId}${identity.namespace === undefined ? '' : `, namespace ${identity.namespace}`}`,
      topics: EVIDENCE_TOPICS,
    });
    this.logger.log({
      msg: 'evidence pack built',
      from: period.from,
      to: period.to,
      events: log.events,
      ms: Date.now() - started,
      findings: pack.summary.findings,
    });
    return pack;
  }
}
