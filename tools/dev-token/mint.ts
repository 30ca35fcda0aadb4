// Prints a token signed by the local dev issuer (AUTH_MODE=dev), for curl and local tests:
//   node -r @swc-node/register tools/dev-token/mint.ts --sub alice --aud grantline --ttl 1h
// The key pair lives in .grantline/dev-issuer/ (created on first use, never committed).
import { parseArgs } from 'node:util';
import { join, resolve } from 'node:path';
import { DEFAULT_AUDIENCE, DEV_ISSUER, ensureDevIssuerKey, mintDevToken, parseTtl } from '@grantline/http-edge';

const USAGE = 'usage: mint.ts --sub <subject> [--aud grantline] [--ttl 1h] [--name "Alice Doe"]';

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      sub: { type: 'string' },
      aud: { type: 'string', default: DEFAULT_AUDIENCE },
      ttl: { type: 'string', default: '1h' },
      name: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const ttlSeconds = parseTtl(values.ttl);
  if (!values.sub || /\s/.test(values.sub) || ttlSeconds === undefined) {
    process.stderr.write(`${USAGE}\n${!values.sub ? '--sub is required' : ttlSeconds === undefined ? `bad --ttl ${values.ttl}` : '--sub must not contain whitespace'}\n`);
    return 2;
  }
  // Where the services look for the key unless DEV_ISSUER_DIR says otherwise: <repository>/.grantline/dev-issuer.
  const key = await ensureDevIssuerKey(resolve(process.env['DEV_ISSUER_DIR'] ?? join(__dirname, '../../.grantline/dev-issuer')));
  const token = await mintDevToken(key, {
    subject: values.sub,
    audience: values.aud,
    issuer: DEV_ISSUER,
    ttlSeconds,
    ...(values.name === undefined ? {} : { name: values.name }),
  });
  process.stdout.write(`${token}\n`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
