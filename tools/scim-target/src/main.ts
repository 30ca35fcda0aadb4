import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { SCIM_BASE_PATH, createScimTarget } from './scim-target.app';
import { ScimStore } from './scim-store';
import type { ScimSeed } from './scim-store';

const seedSchema = z.object({
  users: z.array(z.string().min(1)).default([]),
  groups: z.array(z.object({ displayName: z.string().min(1), members: z.array(z.string().min(1)).default([]) })).default([]),
});

/** The process's configuration; the token comes from the environment only (never an argument: those are world-readable). */
const envSchema = z.object({
  SCIM_TARGET_PORT: z.coerce.number().int().min(1).max(65535).default(18443),
  SCIM_TARGET_HOST: z.string().default('127.0.0.1'),
  SCIM_TARGET_TOKEN: z.string().min(16, { message: 'at least 16 characters' }),
  /** A JSON file `{ users: [userName], groups: [{ displayName, members: [userName] }] }` loaded at start. */
  SCIM_TARGET_SEED_FILE: z.string().optional(),
});

function fail(message: string): never {
  process.stderr.write(`${JSON.stringify({ level: 'error', msg: message })}\n`);
  process.exit(1);
}

const parsed = envSchema.safeParse(process.env);
if (!parsed.success) {
  // Names the variables, never their values (the token is one of them).
  fail(`scim-target: bad environment: ${parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`);
}
const env = parsed.data;
const store = new ScimStore();
if (env.SCIM_TARGET_SEED_FILE !== undefined) {
  const seed = seedSchema.safeParse(JSON.parse(readFileSync(env.SCIM_TARGET_SEED_FILE, 'utf8')));
  if (!seed.success) fail(`scim-target: ${env.SCIM_TARGET_SEED_FILE}: ${seed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  store.seed(seed.data satisfies ScimSeed);
}
const { app } = createScimTarget({ token: env.SCIM_TARGET_TOKEN, store });
const server = app.listen(env.SCIM_TARGET_PORT, env.SCIM_TARGET_HOST, () => {
  process.stdout.write(
    `${JSON.stringify({ level: 'info', msg: 'scim-target listening', url: `http://${env.SCIM_TARGET_HOST}:${env.SCIM_TARGET_PORT}${SCIM_BASE_PATH}` })}\n`,
  );
});
server.on('error', (error) => fail(`scim-target: ${error.message}`));
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}
