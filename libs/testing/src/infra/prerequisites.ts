import { runCommand } from './process.util';

/** A missing tool is a hard failure with instructions, never a silent skip. */
export class MissingPrerequisiteError extends Error {
  constructor(what: string, howToGet: string) {
    super(`missing prerequisite: ${what}. ${howToGet} (or point the harness at running servers with KAFKA_BROKERS, MONGO_URL and PG_URL)`);
    this.name = 'MissingPrerequisiteError';
  }
}

function parseVersion(text: string): number[] | undefined {
  const match = /(\d+)\.(\d+)(?:\.(\d+))?/.exec(text);
  return match ? [Number(match[1]), Number(match[2]), Number(match[3] ?? 0)] : undefined;
}

export function versionAtLeast(actual: readonly number[], wanted: readonly number[]): boolean {
  for (let i = 0; i < wanted.length; i++) {
    const a = actual[i] ?? 0;
    const w = wanted[i] ?? 0;
    if (a !== w) return a > w;
  }
  return true;
}

export async function requireJava(minMajor: number): Promise<void> {
  const result = await runCommand('java', ['-version'], { timeoutMs: 30_000 });
  if (result.code === 127) {
    throw new MissingPrerequisiteError(`java (JDK/JRE ${minMajor}+) to run the Kafka broker`, 'Install it, e.g. `apt-get install -y openjdk-17-jre-headless`');
  }
  const version = parseVersion(/version "([^"]+)"/.exec(result.stderr + result.stdout)?.[1] ?? '');
  if (version === undefined || !versionAtLeast(version, [minMajor])) {
    throw new MissingPrerequisiteError(
      `java ${minMajor}+ (found: ${(result.stderr || result.stdout).split('\n')[0] ?? 'unknown'})`,
      'Install a newer JDK, e.g. `apt-get install -y openjdk-17-jre-headless`',
    );
  }
}

export async function requireMaven(): Promise<void> {
  const result = await runCommand('mvn', ['-v'], { timeoutMs: 60_000 });
  if (result.code !== 0) {
    throw new MissingPrerequisiteError('mvn (Apache Maven) to fetch the Kafka broker jars', 'Install it, e.g. `apt-get install -y maven`');
  }
}

export async function requireGo(min: readonly number[]): Promise<void> {
  const result = await runCommand('go', ['version'], { timeoutMs: 30_000, env: { ...process.env, GOTOOLCHAIN: 'local' } });
  const wanted = min.join('.');
  if (result.code === 127) {
    throw new MissingPrerequisiteError(`go ${wanted}+ to build FerretDB`, 'Install a Go toolchain from your distribution or the Go project');
  }
  const version = parseVersion(/go(\d+\.\d+(?:\.\d+)?)/.exec(result.stdout)?.[1] ?? '');
  if (version === undefined || !versionAtLeast(version, min)) {
    throw new MissingPrerequisiteError(`go ${wanted}+ to build FerretDB (found: ${result.stdout.trim() || 'unknown'})`, 'Install a newer Go toolchain');
  }
}

export async function requireAptAsRoot(packageName: string): Promise<void> {
  const apt = await runCommand('apt-get', ['--version'], { timeoutMs: 30_000 });
  if (apt.code !== 0) {
    throw new MissingPrerequisiteError(`${packageName} (and apt-get to install it)`, `Install ${packageName} with your package manager`);
  }
  if (process.getuid?.() !== 0) {
    throw new MissingPrerequisiteError(`${packageName}`, `Run \`sudo apt-get install -y ${packageName}\``);
  }
}
