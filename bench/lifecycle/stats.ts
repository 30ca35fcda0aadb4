import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';

/**
 * Exact nearest-rank percentiles over the whole sample: at a few thousand samples per phase sorting is cheap, and no
 * HDR histogram (not a dependency of the repository) is needed for the precision these figures have.
 */
export interface Latency {
  readonly count: number;
  readonly p50: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
}

export function latencyOf(samplesMs: readonly number[]): Latency {
  const sorted = [...samplesMs].sort((a, b) => a - b);
  const at = (p: number): number => {
    if (sorted.length === 0) return Number.NaN;
    return round(sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN);
  };
  return { count: sorted.length, p50: at(50), p99: at(99), p999: at(99.9), max: at(100) };
}

export const round = (value: number, digits = 1): number => {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
};

export const perSecond = (count: number, ms: number): number => (ms > 0 ? round((count / ms) * 1000) : 0);

/** A process whose CPU time is charged to the requests of a phase. */
export interface CpuTarget {
  readonly name: string;
  readonly pid: number;
}

interface ProcStat {
  readonly ppid: number;
  /** utime + stime of the process itself (all its threads), in clock ticks. */
  readonly own: number;
  /** cutime + cstime: children it has reaped, in clock ticks. */
  readonly reaped: number;
}

function readStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name is in parentheses and may hold spaces; the numeric fields start after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const n = (field: number): number => Number(fields[field - 3] ?? 0);
  return { ppid: n(4), own: n(14) + n(15), reaped: n(16) + n(17) };
}

let ticksPerSecond: number | undefined;
function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/**
 * CPU ticks of each target and of all its descendants, plus the children it reaped: PostgreSQL does its work in
 * backend processes forked per connection, and a backend that exits between two samples is only visible in its
 * parent's cutime (its whole life is counted then, a small overcount for short phases).
 */
export function sampleCpu(targets: readonly CpuTarget[]): Map<string, number> {
  const stats = new Map<number, ProcStat>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (stat) stats.set(Number(entry), stat);
  }
  const children = new Map<number, number[]>();
  for (const [pid, stat] of stats) children.set(stat.ppid, [...(children.get(stat.ppid) ?? []), pid]);
  const sample = new Map<string, number>();
  for (const target of targets) {
    const root = stats.get(target.pid);
    if (!root) continue;
    let ticks = root.reaped;
    const stack = [target.pid];
    while (stack.length > 0) {
      const pid = stack.pop() as number;
      ticks += stats.get(pid)?.own ?? 0;
      stack.push(...(children.get(pid) ?? []));
    }
    sample.set(target.name, ticks);
  }
  return sample;
}

/** CPU microseconds per request of each target between two samples; the driver's own process is added by the caller. */
export function cpuMicrosPerRequest(before: Map<string, number>, after: Map<string, number>, requests: number): Record<string, number> {
  const perTick = 1e6 / clockTicks();
  const result: Record<string, number> = {};
  for (const [name, ticks] of after) {
    const start = before.get(name);
    if (start === undefined || requests === 0) continue;
    result[name] = Math.round(((ticks - start) * perTick) / requests);
  }
  return result;
}
