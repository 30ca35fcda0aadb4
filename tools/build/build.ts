// `npm run build`: every service and the shipped tools compiled to JavaScript in dist/ (see compile.ts).
//   node -r @swc-node/register tools/build/build.ts [--out <dir>]
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { build } from './compile';

async function main(): Promise<number> {
  const root = join(__dirname, '../..');
  const { values } = parseArgs({ options: { out: { type: 'string', default: join(root, 'dist') } } });
  const result = await build(root, resolve(values.out));
  process.stdout.write(
    `build: ${result.apps.length} services (${result.apps.join(', ')}) and ${result.tools.length} tools, ${result.files} files, in ${result.ms} ms -> ${result.outDir}\n`,
  );
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
