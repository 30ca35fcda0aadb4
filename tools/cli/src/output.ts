/** Where a command writes: the terminal in main.ts, a buffer in specs. */
export interface Output {
  out(text: string): void;
  err(text: string): void;
}

export const processOutput: Output = {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
};

/** An Output that keeps what was written (specs). */
export function bufferedOutput(): Output & { readonly stdout: () => string; readonly stderr: () => string } {
  const out: string[] = [];
  const err: string[] = [];
  return { out: (text) => void out.push(text), err: (text) => void err.push(text), stdout: () => out.join(''), stderr: () => err.join('') };
}
