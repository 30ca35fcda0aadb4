import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Module } from '@nestjs/common';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TimerAccessDenied, TimerFired } from '@grantline/contracts';
import type { AccessDeniedData, Envelope, TimerFiredData } from '@grantline/contracts';
import { DEFAULT_AUDIENCE, DEV_ISSUER, ensureDevIssuerKey, mintDevToken } from '@grantline/http-edge';
import type { DevIssuerKey, GrantlineRole } from '@grantline/http-edge';
import { KafkaMessageBus, silentLogger } from '@grantline/messaging';
import type { MessageBus, RunningConsumer } from '@grantline/messaging';
import { KafkaEventTransport, MESSAGE_BUS, MessagingModule } from '@grantline/messaging-nest';
import { ApiAuthModule } from '@grantline/service-kit';
import { eventually, infraEndpoints, uniqueName } from '@grantline/testing';
import { schedulerEvents } from '../testing/scheduler-events';
import { schedulerRegistryOn } from '../testing/spec-registry';
import type { TimersStatus } from './timers.controller';
import { TimersModule } from './timers.module';

const DAY = 86_400_000;

interface Booted {
  readonly app: INestApplication;
  readonly transport: KafkaEventTransport;
  readonly url: string;
}

describe('TimersModule booted in NestJS against a real broker', () => {
  const { kafkaBrokers } = infraEndpoints();
  const spec = schedulerRegistryOn(uniqueName('sched_nest'));
  const e = schedulerEvents(spec.registry);
  const groupId = uniqueName('scheduler_nest');
  let client: KafkaMessageBus;
  let collector: RunningConsumer;
  const firings: TimerFiredData[] = [];
  /** The refusals the service recorded on its (the spec's) schedule topic. */
  const refusals: Envelope<AccessDeniedData>[] = [];
  const booted: Booted[] = [];
  const issuerDir = mkdtempSync(join(tmpdir(), 'scheduler-spec-issuer-'));
  let issuerKey: DevIssuerKey;
  /** Tokens by role; `member` is a person with no further role, `workload` an HR feed. */
  const tokens = new Map<string, string>();
  const bearer = (who: string): Record<string, string> => {
    const token = tokens.get(who);
    if (token === undefined) throw new Error(`no token for ${who}`);
    return { authorization: `Bearer ${token}` };
  };
  const principalOf = (who: string): string => `${groupId}-${who}`;

  async function boot(env: NodeJS.ProcessEnv): Promise<Booted> {
    @Module({
      imports: [
        MessagingModule.forRoot({ clientId: uniqueName('scheduler'), brokers: kafkaBrokers, registry: spec.registry, logger: silentLogger }),
        ApiAuthModule.forRoot({ serviceName: 'scheduler', deniedEvent: spec.accessDenied, env: { AUTH_MODE: 'dev', DEV_ISSUER_DIR: issuerDir } }),
        TimersModule.forRoot({ env: { SCHEDULER_TICK_INTERVAL_MS: '100', ...env }, logger: silentLogger }),
      ],
    })
    class SpecAppModule {}
    const app = await NestFactory.create(SpecAppModule, { logger: false });
    const transport = new KafkaEventTransport({ bus: app.get<MessageBus>(MESSAGE_BUS), registry: spec.registry, groupId });
    app.connectMicroservice({ strategy: transport });
    await app.startAllMicroservices();
    await app.listen(0, '127.0.0.1');
    const running = { app, transport, url: await app.getUrl() };
    booted.push(running);
    return running;
  }

  async function shutdown(running: Booted): Promise<void> {
    booted.splice(booted.indexOf(running), 1);
    await running.transport.close();
    await running.app.close();
  }

  const status = async (url: string): Promise<TimersStatus> =>
    (await (await fetch(`${url}/v1/timers/status`, { headers: bearer('operator') })).json()) as TimersStatus;
  /** As the operator unless told otherwise; `null`: without a token. */
  const advance = (url: string, body: unknown, who: string | null = 'operator'): Promise<Response> =>
    fetch(`${url}/v1/test-clock/advance`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(who === null ? {} : bearer(who)) },
      body: JSON.stringify(body),
    });

  beforeAll(async () => {
    client = new KafkaMessageBus({ clientId: uniqueName('nest_client'), brokers: kafkaBrokers, registry: spec.registry, logger: silentLogger });
    await client.ensureTopics(Object.values(spec.topics).map((topic) => ({ topic, partitions: 2 })));
    collector = await client.consume({
      groupId: uniqueName('nest_collector'),
      topics: [spec.topics.schedule],
      fromBeginning: true,
      handler: async (event) => {
        if (event.type === TimerFired.type) firings.push(event.data as TimerFiredData);
        if (event.type === TimerAccessDenied.type) refusals.push(event as Envelope<AccessDeniedData>);
      },
    });
    issuerKey = await ensureDevIssuerKey(issuerDir);
    const mint = (who: string, roles: GrantlineRole[], workload = false): Promise<string> =>
      mintDevToken(issuerKey, {
        subject: principalOf(who),
        audience: DEFAULT_AUDIENCE,
        issuer: DEV_ISSUER,
        ttlSeconds: 900,
        roles,
        ...(workload ? { workload } : {}),
      });
    for (const role of ['operator', 'security', 'auditor'] as const) tokens.set(role, await mint(role, [role]));
    tokens.set('member', await mint('member', []));
    tokens.set('workload', await mint('workload', ['identity-source'], true));
  });

  afterAll(async () => {
    for (const running of [...booted]) await shutdown(running);
    await collector.stop();
    await client.disconnect();
    rmSync(issuerDir, { recursive: true, force: true });
  });

  it('rebuilds at boot, takes live events through @EventPattern, and fires when the test clock is advanced over HTTP', async () => {
    // written before the service starts: only replay can know about it (40 days: past setTimeout's limit)
    await client.publisher.publish(spec.topics.grants, [e.grantCreated('g1', 'r1', new Date(Date.now() + 40 * DAY).toISOString())]);

    const first = await boot({ CLOCK: 'offset', SCHEDULER_TEST_MODE: 'true' });
    expect(await status(first.url)).toMatchObject({ rebuilt: true, pending: 1, fired: 0 });

    await client.publisher.publish(spec.topics.approvals, [e.taskOpened('t1', 'rt1', new Date(Date.now() + DAY).toISOString())]);
    await eventually(async () => expect((await status(first.url)).pending).toBe(2), { timeoutMs: 30_000 });

    const twoDays = await advance(first.url, { duration: 'P2D' });
    expect(twoDays.status).toBe(200);
    expect(await twoDays.json()).toMatchObject({ advancedMs: 2 * DAY, fired: 1 });
    const rest = await advance(first.url, { ms: 39 * DAY });
    expect(await rest.json()).toMatchObject({ fired: 1 });

    await eventually(() => expect(firings.map((data) => data.timerId).sort()).toEqual(['approval_deadline:t1', 'grant_expiry:g1']), { timeoutMs: 20_000 });
  });

  it('rejects a malformed advance with 400 and moves nothing', async () => {
    const running = booted[0]!;
    const before = Date.parse((await status(running.url)).now);

    for (const body of [{}, { ms: -1 }, { duration: 'P1M' }, { ms: 1, duration: 'PT1H' }, { hours: 3 }]) {
      expect((await advance(running.url, body)).status).toBe(400);
    }

    // the clock still runs in real time, so allow the seconds this test took, not days
    expect(Date.parse((await status(running.url)).now) - before).toBeLessThan(DAY);
  });

  it('after a restart keeps its time from the log, fires nothing twice, and hides the endpoint when disabled', async () => {
    await shutdown(booted[0]!);
    await client.publisher.publish(spec.topics.grants, [e.grantCreated('g2', 'r2', new Date(Date.now() + 50 * DAY).toISOString())]);

    // ENABLE_TEST_CLOCK, the test mode's former name, still switches it on
    const second = await boot({ CLOCK: 'offset', ENABLE_TEST_CLOCK: 'true' });
    const rebuilt = await status(second.url);
    expect(rebuilt).toMatchObject({ rebuilt: true, fired: 2, pending: 1 });
    // the offset died with the first process; the clock resumed from the latest firing in the log (~41 days on)
    expect(Date.parse(rebuilt.now) - Date.now()).toBeGreaterThan(40 * DAY);
    expect(await (await advance(second.url, { duration: 'P10D' })).json()).toMatchObject({ fired: 1 });
    await eventually(() => expect(firings).toHaveLength(3), { timeoutMs: 20_000 });
    await shutdown(second);

    const third = await boot({});
    expect(await status(third.url)).toMatchObject({ rebuilt: true, fired: 3, pending: 0 });
    // not in test mode: the routes do not exist, not even for an operator
    expect((await advance(third.url, { ms: 1 })).status).toBe(404);
    expect((await fetch(`${third.url}/v1/test-clock`, { headers: bearer('operator') })).status).toBe(404);
    expect(new Set(firings.map((data) => data.timerId)).size).toBe(firings.length);
  });
  it('answers only with a token, status to operator, security and auditor, the test clock to operator; refusals recorded', async () => {
    const running = await boot({ CLOCK: 'offset', SCHEDULER_TEST_MODE: 'true' });
    const get = (path: string, who?: string): Promise<Response> => fetch(`${running.url}${path}`, { headers: who === undefined ? {} : bearer(who) });

    for (const path of ['/v1/timers/status', '/v1/test-clock']) expect((await get(path)).status).toBe(401);
    expect((await advance(running.url, { ms: 1 }, null)).status).toBe(401);
    expect((await get('/v1/timers/status', 'operator')).status).toBe(200);
    for (const who of ['security', 'auditor']) expect((await get('/v1/timers/status', who)).status).toBe(200);
    for (const who of ['member', 'workload']) expect((await get('/v1/timers/status', who)).status).toBe(403);
    expect((await get('/v1/test-clock', 'operator')).status).toBe(200);
    // refused before the body is read: an invalid body is a 403 for anyone but an operator
    for (const who of ['security', 'auditor', 'member']) {
      expect((await get('/v1/test-clock', who)).status).toBe(403);
      expect((await advance(running.url, { hours: 3 }, who)).status).toBe(403);
    }
    expect((await advance(running.url, { hours: 3 })).status).toBe(400);

    const recorded = await eventually(
      () => {
        const mine = refusals.filter((event) => event.subject === principalOf('member'));
        expect(mine.length).toBeGreaterThanOrEqual(3);
        return mine;
      },
      { timeoutMs: 20_000 },
    );
    expect(recorded.map((event) => event.data)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          service: 'scheduler',
          operation: 'GET /v1/timers/status',
          status: 403,
          reason: 'requires one of the roles operator, security, auditor',
        }),
        expect.objectContaining({ operation: 'POST /v1/test-clock/advance', status: 403, reason: 'requires the operator role' }),
      ]),
    );
    expect(recorded[0]).toMatchObject({
      type: 'iga.timer.access-denied.v1',
      source: 'grantline/scheduler',
      actor: { kind: 'user', id: principalOf('member') },
    });
    await shutdown(running);
  });

  it('refuses to start in test mode with NODE_ENV=production, saying why', async () => {
    const jwks = join(issuerDir, 'jwks.json');
    writeFileSync(jwks, JSON.stringify({ keys: [] }));
    const child = spawn(process.execPath, ['-r', '@swc-node/register', join(__dirname, '../main.ts')], {
      env: {
        ...process.env,
        NODE_ENV: 'production',
        SCHEDULER_TEST_MODE: 'true',
        CLOCK: 'offset',
        KAFKA_BROKERS: kafkaBrokers.join(','),
        MONGO_URL: infraEndpoints().mongoUrl,
        PORT: '0',
        // a valid production authentication, so the test mode is what the start trips on
        AUTH_MODE: 'oidc',
        OIDC_ISSUER: 'https://idp.example.test',
        OIDC_JWKS_FILE: jwks,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), 45_000);
    const code = await new Promise<number | null>((resolve) => child.once('exit', (exitCode) => resolve(exitCode)));
    clearTimeout(timer);
    expect(code).toBe(1);
    expect(output).toContain('SCHEDULER_TEST_MODE=true is refused with NODE_ENV=production');
  }, 60_000);
});
