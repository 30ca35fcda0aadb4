import { Presets, SingleBar } from 'cli-progress';

/** A progress report for long work; the CLI draws it on stderr, specs pass their own. */
export interface Progress {
  update(done: number, total: number): void;
  stop(): void;
}

/** A cli-progress bar on stderr (drawn only on a terminal: piped output stays clean). */
export function progressBar(label: string): Progress {
  const bar = new SingleBar(
    { format: `${label} [{bar}] {value}/{total} {percentage}% · {duration_formatted}`, stream: process.stderr, hideCursor: true },
    Presets.shades_classic,
  );
  let started = false;
  return {
    update(done, total) {
      if (!started) {
        bar.start(total, done);
        started = true;
      } else {
        bar.setTotal(total);
        bar.update(done);
      }
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
