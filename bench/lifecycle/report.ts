import type { Baseline } from './baseline';
import type { Latency } from './stats';

export interface PhaseResult {
  readonly name: string;
  readonly channel: 'http' | 'itsm';
  readonly operation: 'provision' | 'revoke';
  readonly mode: 'closed' | 'open';
  readonly concurrency?: number;
  readonly targetRatePerSec?: number;
  readonly requests: number;
  readonly accepted: number;
  readonly rejected: number;
  readonly firstRejection?: string;
  /** Ended by a terminal provisioning failure instead of the outcome waited for. */
  readonly failed: number;
  /** Accepted but without an outcome when the phase timeout ran out; their latencies are not in the percentiles. */
  readonly timedOut: number;
  readonly submittedPerSec: number;
  /** Provisioned (or revoked) per second, from the first send to the last outcome. */
  readonly completedPerSec: number;
  readonly submitLatencyMs: Latency;
  /** Submitted (the due time in open loop) -> grant.activated / grant.revoked seen by the bench. */
  readonly endToEndMs: Latency;
  /** pg_auth_members after the phase: members among the phase's logins (expected: all, or none after revocation). */
  readonly membersInPostgres: number;
  readonly wallMs: number;
  readonly cpuMicrosPerRequest: Record<string, number>;
}

export interface LifecycleReport {
  readonly bench: 'lifecycle';
  readonly runId: string;
  readonly config: Record<string, unknown>;
  readonly startupMs: number;
  readonly baseline?: Baseline;
  readonly phases: readonly PhaseResult[];
  readonly observerDelayMsP50: number;
  readonly notes: readonly string[];
}

const pad = (value: unknown, width: number): string => String(value).padStart(width);
const lat = (l: Latency, p999 = false): string => `${l.p50}/${l.p99}${p999 ? `/${l.p999}` : ''}`;

function label(phase: PhaseResult): string {
  const how = phase.mode === 'closed' ? `closed c=${phase.concurrency}` : `open ${phase.targetRatePerSec}/s`;
  return `${phase.operation === 'revoke' ? 'revoke' : phase.channel} ${how}`;
}

/** The human-readable part: one row per phase, CPU per request per process, the baseline beside them. */
export function formatReport(report: LifecycleReport): string {
  const lines: string[] = [];
  lines.push(
    `lifecycle: ${String(report.config['requests'])} requests per phase, entitlement ${String(report.config['entitlement'])} (auto-approved), platform ready in ${(report.startupMs / 1000).toFixed(1)} s`,
  );
  lines.push('outcome = grant.activated (provision) or grant.revoked (revoke) consumed from the grants topic; latencies in ms, open loop from the due time');
  lines.push(
    `${'phase'.padEnd(24)}${pad('ok', 6)}${pad('rej', 5)}${pad('fail', 5)}${pad('t/o', 5)}${pad('submit/s', 10)}${pad('outcome/s', 11)}${pad('submit p50/p99', 18)}${pad('outcome p50/p99/p99.9', 26)}${pad('pg', 7)}`,
  );
  for (const phase of report.phases) {
    const pg = phase.operation === 'revoke' ? `${phase.membersInPostgres} left` : `${phase.membersInPostgres}`;
    lines.push(
      `${label(phase).padEnd(24)}${pad(phase.accepted, 6)}${pad(phase.rejected, 5)}${pad(phase.failed, 5)}${pad(phase.timedOut, 5)}${pad(phase.submittedPerSec, 10)}${pad(phase.completedPerSec, 11)}${pad(lat(phase.submitLatencyMs), 18)}${pad(lat(phase.endToEndMs, true), 26)}${pad(pg, 7)}`,
    );
    if (phase.firstRejection) lines.push(`  first rejection: ${phase.firstRejection}`);
  }
  const processes = [...new Set(report.phases.flatMap((phase) => Object.keys(phase.cpuMicrosPerRequest)))];
  if (processes.length > 0) {
    lines.push('', 'CPU µs per request (utime+stime from /proc, whole phase; shared infrastructure also carries other runs):');
    const width = 16;
    lines.push(`${'process'.padEnd(20)}${report.phases.map((phase) => pad(label(phase).slice(0, width - 1), width)).join('')}`);
    for (const name of processes) lines.push(`${name.padEnd(20)}${report.phases.map((phase) => pad(phase.cpuMicrosPerRequest[name] ?? '-', width)).join('')}`);
    const totals = report.phases.map((phase) =>
      Object.entries(phase.cpuMicrosPerRequest).reduce((sum, [name, us]) => (name === 'bench-driver' ? sum : sum + us), 0),
    );
    lines.push(`${'total (no driver)'.padEnd(20)}${totals.map((us) => pad(us, width)).join('')}`);
  }
  lines.push('');
  if (report.baseline) {
    const best = Math.max(0, ...report.phases.filter((p) => p.operation === 'provision').map((p) => p.completedPerSec));
    lines.push(
      `baseline (same run) B1 raw kafkajs end-to-end: ${report.baseline.rawEndToEnd} events/s, libs/messaging: ${report.baseline.messagingEndToEnd} events/s (${report.baseline.events} events)`,
      `best provisioned/s ${best} = ${((best / report.baseline.rawEndToEnd) * 100).toFixed(2)} % of the raw event rate (a request is many events and writes across 8 services)`,
    );
  } else lines.push('baseline: skipped (BENCH_LIFECYCLE_BASELINE_EVENTS=0)');
  lines.push(`bench observer delay (grant.activated time -> seen by the bench) p50: ${report.observerDelayMsP50} ms`);
  for (const note of report.notes) lines.push(`note: ${note}`);
  return lines.join('\n');
}
