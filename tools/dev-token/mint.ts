// Prints a token signed by the local dev issuer (AUTH_MODE=dev), for curl and local tests:
//   node -r @swc-node/register tools/dev-token/mint.ts --sub alice --aud grantline --ttl 1h
//   ... --sub hr-feed --workload --role identity-source      (a client-credentials token of an identity source)
//   ... --sub sam --role security                            (a person with the security role)
// The key pair lives in .grantline/dev-issuer/ (created on first use, never committed).
import { parseArgs } from 'node:util';
import { join, resolve } from 'node:path';
import { DEFAULT_AUDIENCE, DEV_ISSUER, GRANTLINE_ROLES, ensureDevIssuerKey, isGrantlineRole, mintDevToken, parseTtl } from '@grantline/http-edge';

const USAGE = `usage: mint.ts --sub <subject> [--role <role>]... [--workload] [--aud grantline] [--ttl 1h] [--name "Alice Doe"]
  roles: ${GRANTLINE_ROLES.filter((role) => role !== 'member').join(', ')} (every person is a member; a --workload is not)`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      sub: { type: 'string' },
      aud: { type: 'string', default: DEFAULT_AUDIENCE },
      ttl: { type: 'string', default: '1h' },
      name: { type: 'string' },
      role: { type: 'string', multiple: true, default: [] },
      workload: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const ttlSeconds = parseTtl(values.ttl);
  if (!values.sub || /\s/.test(values.sub) || ttlSeconds === undefined) {
    process.stderr.write(
      `${USAGE}\n${!values.sub ? '--sub is required' : ttlSeconds === undefined ? `bad --ttl ${values.ttl}` : '--sub must not contain whitespace'}\n`,
    );
    return 2;
  }
  const unknownRole = values.role.find((role) => !isGrantlineRole(role) || role === 'member');
  if (unknownRole !== undefined) {
    process.stderr.write(`${USAGE}\nunknown role ${unknownRole}\n`);
    return 2;
  }
  // Where the services look for the key unless DEV_ISSUER_DIR says otherwise: <repository>/.grantline/dev-issuer.
  const key = await ensureDevIssuerKey(resolve(process.env['DEV_ISSUER_DIR'] ?? join(__dirname, '../../.grantline/dev-issuer')));
  const token = await mintDevToken(key, {
    subject: values.sub,
    audience: values.aud,
    issuer: DEV_ISSUER,
    ttlSeconds,
    roles: values.role,
    workload: values.workload,
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
