// Terminal rendering for backtests: a table a reviewer can read in the pull request of a policy
// change, and a progress bar for long replays. Pure string builders; the caller decides where to write.
import type { BacktestExample, BacktestReport, ChangeKind } from './backtest';
import { CHANGE_KINDS } from './backtest';
import type { Decision } from './decision.types';

export interface RenderOptions {
  /** ANSI colours; on for a TTY, off for files and CI logs. */
  readonly color?: boolean;
  readonly width?: number;
}

const LABEL: Record<ChangeKind, string> = {
  newly_denied: 'newly denied',
  newly_auto_approved: 'newly auto-approved',
  newly_requires_approval: 'newly requires approval',
  route_changed: 'approval route changed',
  constraints_changed: 'constraints changed',
  unchanged: 'unchanged',
};
const COLOUR: Record<ChangeKind, string> = {
  newly_denied: '31',
  newly_auto_approved: '33',
  newly_requires_approval: '36',
  route_changed: '35',
  constraints_changed: '34',
  unchanged: '2',
};

const paint = (on: boolean, code: string, s: string): string => (on ? `\u001b[${code}m${s}\u001b[0m` : s);
const pct = (n: number, total: number): string => (total === 0 ? '0.0%' : `${((100 * n) / total).toFixed(1)}%`);
const routeText = (d: Pick<Decision, 'route'>): string =>
  d.route.length ? d.route.map((s) => (s.quorum > 1 ? `${s.name}×${s.quorum}` : s.name)).join(' → ') : '—';
const constraintText = (d: Pick<Decision, 'constraints'>): string => {
  const c = d.constraints;
  const parts = [
    c.maxDuration && `max ${c.maxDuration}`,
    c.credentialType && `cred ${c.credentialType}`,
    c.recertificationEvery && `recert ${c.recertificationEvery}`,
    c.breakGlassAllowed && 'break-glass',
    c.reviewRequired && 'review',
  ].filter(Boolean);
  return parts.length ? parts.join(', ') : '—';
};

const renderExample = (kind: ChangeKind, ex: BacktestExample, color: boolean): string[] => {
  const lines = [`  ${paint(color, '1', ex.requestId)}  ${ex.before.effect} → ${paint(color, COLOUR[kind], ex.after.effect)}`];
  if (kind === 'route_changed' || ex.before.route.length || ex.after.route.length) {
    lines.push(`    route        ${routeText(ex.before)}  ⇒  ${routeText(ex.after)}`);
  }
  lines.push(`    constraints  ${constraintText(ex.before)}  ⇒  ${constraintText(ex.after)}`);
  lines.push(`    before: ${ex.before.reasons[0] ?? '—'}`);
  lines.push(`    after:  ${ex.after.reasons[0] ?? '—'}`);
  return lines;
};

export const renderBacktestReport = (report: BacktestReport, options: RenderOptions = {}): string => {
  const color = options.color ?? false;
  const changed = report.total - report.counts.unchanged - report.errorCount;
  const out: string[] = [];
  out.push(paint(color, '1', `Backtest of ${report.candidate.name}@${report.candidate.version}`) + `  ${report.candidate.digest.slice(0, 19)}…`);
  const bundles = Object.entries(report.recordedBundles);
  out.push(`against ${report.total.toLocaleString('en-US')} recorded decisions from ${bundles.length} bundle${bundles.length === 1 ? '' : 's'}`);
  out.push('');
  const width = Math.max(...CHANGE_KINDS.map((k) => LABEL[k].length));
  const countWidth = Math.max(5, ...CHANGE_KINDS.map((k) => report.counts[k].toLocaleString('en-US').length));
  out.push(`  ${'change'.padEnd(width)}  ${'count'.padStart(countWidth)}  ${'share'.padStart(6)}`);
  out.push(`  ${'─'.repeat(width)}  ${'─'.repeat(countWidth)}  ${'─'.repeat(6)}`);
  for (const k of CHANGE_KINDS) {
    const n = report.counts[k];
    const row = `  ${LABEL[k].padEnd(width)}  ${n.toLocaleString('en-US').padStart(countWidth)}  ${pct(n, report.total).padStart(6)}`;
    out.push(n > 0 ? paint(color, COLOUR[k], row) : row);
  }
  if (report.errorCount) out.push(`  ${'could not evaluate'.padEnd(width)}  ${String(report.errorCount).padStart(countWidth)}`);
  out.push('');
  out.push(
    changed === 0
      ? paint(color, '32', `No decision would change (${report.total.toLocaleString('en-US')} replayed).`)
      : paint(
          color,
          '1',
          `${changed.toLocaleString('en-US')} of ${report.total.toLocaleString('en-US')} decisions (${pct(changed, report.total)}) would change; ` +
            `${report.counts.newly_denied} newly denied, ${report.counts.newly_auto_approved} newly auto-approved.`,
        ),
  );
  for (const k of CHANGE_KINDS) {
    const examples = report.examples[k];
    if (!examples.length) continue;
    out.push('');
    out.push(paint(color, COLOUR[k], `${LABEL[k]} — ${examples.length} of ${report.counts[k]}:`));
    for (const ex of examples) out.push(...renderExample(k, ex, color));
  }
  for (const e of report.errors.slice(0, 5)) out.push(`  ! ${e.requestId}: ${e.message}`);
  return `${out.join('\n')}\n`;
};

export interface ProgressState {
  readonly done: number;
  readonly total: number | null;
  readonly elapsedMs: number;
}

/** One line, to be written after "\r" on a TTY. Unknown totals show a count and rate only. */
export const renderProgressBar = (p: ProgressState, options: RenderOptions = {}): string => {
  const rate = p.elapsedMs > 0 ? Math.round((p.done * 1000) / p.elapsedMs) : 0;
  const tail = `${p.done.toLocaleString('en-US')}${p.total !== null ? `/${p.total.toLocaleString('en-US')}` : ''} · ${rate.toLocaleString('en-US')}/s`;
  if (p.total === null || p.total === 0) return `replaying ${tail}`;
  const barWidth = Math.max(10, (options.width ?? 60) - tail.length - 10);
  const ratio = Math.min(1, p.done / p.total);
  const full = Math.floor(ratio * barWidth);
  const bar = '█'.repeat(full) + (full < barWidth ? '░'.repeat(barWidth - full) : '');
  return `${paint(options.color ?? false, '36', bar)} ${(ratio * 100).toFixed(0).padStart(3)}% ${tail}`;
};
