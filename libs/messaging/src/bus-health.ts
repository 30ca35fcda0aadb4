import type { BusHealth, ConsumerHealth } from './ports';

/** One line per problem, for the `detail` of an unhealthy bus. */
function describeProblems(consumers: readonly ConsumerHealth[]): string {
  return consumers
    .flatMap((consumer) =>
      consumer.problems.map((problem) =>
        problem.state === 'crashed'
          ? `${consumer.groupId}: crashed (${problem.reason})`
          : `${consumer.groupId}: ${problem.topic}/${problem.partition} ${problem.state} at offset ${problem.offset} (${problem.state === 'halted' ? problem.eventType : problem.reason})`,
      ),
    )
    .join('; ');
}

/**
 * The transport's own answer joined with its consumers': a service that cannot make progress on its partitions must
 * not look healthy, however well its brokers answer.
 */
export function withConsumerHealth(health: BusHealth, consumers: readonly ConsumerHealth[]): BusHealth {
  const troubled = consumers.filter((consumer) => !consumer.ok);
  if (troubled.length === 0) return { ...health, consumers };
  const problems = describeProblems(troubled);
  return { ...health, ok: false, detail: health.detail === undefined ? problems : `${health.detail}; ${problems}`, consumers };
}
