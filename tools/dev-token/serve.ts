// The dev issuer as a tiny OIDC key server, for docker-compose.yml: services in production mode verify tokens
// against OIDC_JWKS_URL, and this serves the public half of the dev key pair there. It mints nothing over HTTP:
// tokens come from `mint` run beside it (`docker compose exec dev-issuer node tools/dev-token/mint.js --sub alice`),
// which signs with the same key (DEV_ISSUER_DIR, a volume of its own). Local development only: whoever can run
// mint in this container can sign any token the services accept.
//   node -r @swc-node/register tools/dev-token/serve.ts      (PORT, default 3190; HOST, default 127.0.0.1)
import { createServer } from 'node:http';
import { join, resolve } from 'node:path';
import { DEV_ISSUER, devJwks, ensureDevIssuerKey } from '@grantline/http-edge';

const log = (level: number, msg: string, fields: Record<string, unknown> = {}): void => {
  process.stdout.write(`${JSON.stringify({ level, time: Date.now(), service: 'dev-issuer', msg, ...fields })}\n`);
};

async function main(): Promise<void> {
  const port = Number(process.env['PORT'] ?? 3190);
  const host = process.env['HOST'] ?? '127.0.0.1';
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT: expected a port number, got ${process.env['PORT'] ?? ''}`);
  const key = await ensureDevIssuerKey(resolve(process.env['DEV_ISSUER_DIR'] ?? join(__dirname, '../../.grantline/dev-issuer')));
  const jwks = JSON.stringify(devJwks(key));
  const server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://issuer').pathname;
    const send = (status: number, body: string): void => {
      response.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(body);
    };
    if (request.method !== 'GET') return send(405, JSON.stringify({ error: 'method not allowed' }));
    switch (path) {
      case '/jwks.json':
        return send(200, jwks);
      case '/.well-known/openid-configuration':
        return send(
          200,
          JSON.stringify({
            issuer: DEV_ISSUER,
            jwks_uri: `http://${request.headers.host ?? `${host}:${port}`}/jwks.json`,
            id_token_signing_alg_values_supported: ['ES256'],
          }),
        );
      case '/health/live':
      case '/health/ready':
        return send(200, JSON.stringify({ status: 'ok' }));
      default:
        return send(404, JSON.stringify({ error: 'not found' }));
    }
  });
  server.listen(port, host, () => {
    const address = server.address();
    const url = typeof address === 'object' && address !== null ? `http://${host}:${address.port}` : `http://${host}:${port}`;
    log(30, 'ready', { url, issuer: DEV_ISSUER });
    log(40, 'dev issuer: tokens signed with this key are accepted by every service pointed here; local development only');
  });
  const stop = (): void => {
    server.close(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((error: unknown) => {
  log(60, error instanceof Error ? error.message : String(error));
  process.exit(1);
});
