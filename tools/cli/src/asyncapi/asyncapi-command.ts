import { writeFileSync } from 'node:fs';
import { buildAsyncApiDocument } from '@grantline/asyncapi';
import type { Output } from '../output';

/** `grantline asyncapi [--out FILE]`: the event log's AsyncAPI 3 document (what the gateway serves at /asyncapi.json). */
export function asyncApiCommand(options: { out?: string }, output: Output): number {
  const text = `${JSON.stringify(buildAsyncApiDocument(), null, 2)}\n`;
  if (options.out === undefined) {
    output.out(text);
    return 0;
  }
  writeFileSync(options.out, text);
  output.err(`asyncapi: wrote ${options.out}\n`);
  return 0;
}
