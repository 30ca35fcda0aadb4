// Scenario: credentials bound to grants (ADR 0026). A CI pipeline's machine identity asks for a production deploy
// token (a JWT) and a workload client certificate (X.509); its owner of record, the entitlement's owner and security
// approve (scenario 2's route). The owner retrieves the JWT once (again: 410; a colleague of no standing: 404); it
// verifies against the published JWKS with exp = the grant's expiry; revoking the grant puts its jti on the signed
// revocation list. The pipeline itself retrieves its certificate, which `openssl verify` accepts against the CA and
// which ends exactly when the grant does. When the pipeline's owner of record changes (issue 14), its live JWT is
// replaced: the new owner retrieves a new token once (same exp, new jti), the former owner cannot, and the old jti is
// on the revocation list. Then every topic of the platform, the dead-letter topic and every service log are searched
// for every secret handed over: nothing.
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalJWKSet, jwtVerify } from 'jose';
import type { JSONWebKeySet } from 'jose';
import { TOPICS, connectorCommandsTopic, connectorResultsTopic } from '@grantline/contracts';
import type { Envelope } from '@grantline/contracts';
import { eventually } from '@grantline/testing';
import type { EventLogReader } from './event-log.reader';
import type { ApprovalRequestView, GrantlineClient } from './grantline.client';
import { SCENARIO_TIMEOUT_MS, START_TIMEOUT_MS } from './platform.fixture';
import type { Platform } from './platform.fixture';
import { ScenarioHarness } from './scenario.harness';

const WAIT = { timeoutMs: 60_000, intervalMs: 100 };
const OPENSSL = '/usr/bin/openssl';
const CONNECTOR_ID = 'credentials';
const ISSUER = 'urn:grantline:credentials';

interface Retrieved {
  readonly credentialId: string;
  readonly type: string;
  readonly secret: string;
  readonly expiresAt: string;
}

describe('scenario: a pipeline gets a JWT and a client certificate that live exactly as long as its grants', () => {
  const scenario = new ScenarioHarness('shortcreds', {
    services: ['intake', 'policy', 'approval', 'provisioning', 'connector-credentials'],
    env: { provisioning: { PROVISIONING_CONNECTOR_IDS: CONNECTOR_ID } },
    eventLog: true,
  });
  let platform: Platform;
  let api: GrantlineClient;
  let log: EventLogReader;
  let pipeline: string;
  let owner: string;
  let colleague: string;
  let reviewer: string;
  let newOwner: string;
  const resourceOwner = 'sam';
  const tokens: Record<string, string> = {};
  let requestId: string;
  const grantOf: Record<string, string> = {};
  const secrets: string[] = [];
  const work = mkdtempSync(join(tmpdir(), 'e2e-shortcreds-'));

  const credentialsUrl = (): string => platform.url('connector-credentials');
  const retrieve = (credentialId: string, token: string) =>
    platform.call<Retrieved>('connector-credentials', 'POST', `/v1/connectors/credentials/credentials/${encodeURIComponent(credentialId)}/retrieval`, {
      token,
    });
  const grantExpiry = async (grantId: string): Promise<Date> => {
    const activated = (await log.read([TOPICS.grants])).find(
      (event) => event.type === 'iga.grant.activated.v1' && (event.data as { grantId: string }).grantId === grantId,
    );
    expect(activated).toBeDefined();
    return new Date((activated!.data as { expiresAt: string }).expiresAt);
  };
  const openTask = async (token: string, stageId: string): Promise<string> =>
    eventually(async () => {
      const answer = await api.approvalRequest(token, requestId);
      expect(answer.status).toBe(200);
      const view: ApprovalRequestView = answer.body;
      const task = view.tasks.find((candidate) => candidate.stageId === stageId && candidate.status === 'open');
      expect(task).toBeDefined();
      return task!.taskId;
    }, WAIT);
  const revoke = async (grantId: string): Promise<void> => {
    const asked = await platform.call('intake', 'POST', `/v1/grants/${encodeURIComponent(grantId)}/revoke`, {
      token: tokens['owner']!,
      body: { reason: 'release done: the credential is no longer needed' },
    });
    expect(asked.status).toBe(202);
    await eventually(async () => {
      const revoked = (await log.read([TOPICS.grants])).some(
        (event) => event.type === 'iga.grant.revoked.v1' && (event.data as { grantId: string }).grantId === grantId,
      );
      expect(revoked).toBe(true);
    }, WAIT);
  };

  beforeAll(async () => {
    ({ platform, api, log } = await scenario.start());
    pipeline = `e2e_ci_${platform.runId}`;
    owner = `e2e_owner_${platform.runId}`;
    colleague = `e2e_colleague_${platform.runId}`;
    reviewer = `e2e_sec_${platform.runId}`;
    newOwner = `e2e_newowner_${platform.runId}`;
    tokens['newOwner'] = await platform.tokens.mint(newOwner);
    tokens['pipeline'] = await platform.tokens.mint(pipeline, { workload: true });
    tokens['owner'] = await platform.tokens.mint(owner);
    tokens['colleague'] = await platform.tokens.mint(colleague);
    tokens['reviewer'] = await platform.tokens.mint(reviewer);
    tokens['resourceOwner'] = await platform.tokens.mint(resourceOwner);
    await api.upsertHuman(resourceOwner);
    await api.upsertHuman(owner);
    await api.upsertHuman(colleague);
    await api.upsertHuman(newOwner);
    await api.upsertIdentity(reviewer, { kind: 'human', displayName: `E2E ${reviewer}`, attributes: { groups: 'security' } });
    await api.upsertIdentity(pipeline, {
      kind: 'ci_pipeline',
      displayName: `E2E release pipeline ${platform.runId}`,
      ownerId: owner,
      attributes: { repository: 'grantline/orders', scope: 'deploy-api-prod' },
    });
  }, START_TIMEOUT_MS);

  afterAll(async () => {
    rmSync(work, { recursive: true, force: true });
    await scenario.close();
  }, START_TIMEOUT_MS);

  it(
    'issues both credentials once the pipeline, its owner, the entitlement owner and security have their say',
    async () => {
      await platform.withLogs(async () => {
        requestId = await api.submitOk(tokens['pipeline']!, {
          subject: { id: pipeline, kind: 'ci_pipeline' },
          entitlementIds: ['deploy-token-prod', 'workload-mtls-prod'],
          justification: 'release 2026.12.03 deploys the orders service',
          ticket: { system: 'jira', id: `REL-${platform.runId}` },
          duration: 'PT12H',
        });
        for (const [stage, who] of [
          ['resource_owner', 'resourceOwner'],
          ['nhi_owner', 'owner'],
          ['security', 'reviewer'],
        ] as const) {
          const task = await openTask(tokens[who]!, stage);
          expect((await api.decide(tokens[who]!, task, 'approve', 'release window agreed')).status).toBe(200);
        }
        const view = await eventually(api.requestInStatus(tokens['pipeline']!, requestId, 'provisioned'), WAIT);
        for (const grant of view.grants) grantOf[grant.entitlementId] = grant.grantId;
        expect(Object.keys(grantOf).sort()).toEqual(['deploy-token-prod', 'workload-mtls-prod']);
        await eventually(async () => {
          const issued = (await log.read([TOPICS.grants])).filter((event) => event.type === 'iga.grant.credential-issued.v1');
          expect(issued.map((event) => (event.data as { credentialType: string }).credentialType).sort()).toEqual(['short_lived_token', 'x509_certificate']);
        }, WAIT);
      })();
    },
    SCENARIO_TIMEOUT_MS,
  );

  it(
    "hands the JWT to the pipeline's owner once; it verifies against the JWKS with exp = the grant's expiry, and is listed once revoked",
    async () => {
      await platform.withLogs(async () => {
        const grantId = grantOf['deploy-token-prod']!;
        expect((await retrieve(grantId, tokens['colleague']!)).status).toBe(404);
        const first = await retrieve(grantId, tokens['owner']!);
        expect(first.status).toBe(200);
        const { secret: jwt, type } = first.body;
        secrets.push(jwt);
        expect(type).toBe('short_lived_token');
        expect((await retrieve(grantId, tokens['owner']!)).status).toBe(410);
        expect((await retrieve(grantId, tokens['pipeline']!)).status).toBe(410);

        const jwks = (await (await fetch(`${credentialsUrl()}/.well-known/jwks.json`)).json()) as JSONWebKeySet;
        const { payload } = await jwtVerify(jwt, createLocalJWKSet(jwks), { issuer: ISSUER, audience: 'deploy-api-prod' });
        const expiresAt = await grantExpiry(grantId);
        expect(payload).toMatchObject({ sub: pipeline, jti: grantId, scope: 'deploy-api-prod', exp: Math.floor(expiresAt.getTime() / 1000) });

        await revoke(grantId);
        const listed = await eventually(async () => {
          const list = await (await fetch(`${credentialsUrl()}/v1/credentials/revocations`)).text();
          const verified = await jwtVerify(list, createLocalJWKSet(jwks), { issuer: ISSUER });
          expect(verified.payload['revoked']).toEqual(expect.arrayContaining([{ jti: grantId, exp: payload.exp }]));
          return verified;
        }, WAIT);
        expect(listed.protectedHeader.typ).toBe('revocation-list+jwt');
      })();
    },
    SCENARIO_TIMEOUT_MS,
  );

  it(
    "hands the pipeline its client certificate: openssl verifies it against the CA, and it ends with the grant's expiry",
    async () => {
      await platform.withLogs(async () => {
        const grantId = grantOf['workload-mtls-prod']!;
        const answer = await retrieve(grantId, tokens['pipeline']!);
        expect(answer.status).toBe(200);
        const bundle = answer.body.secret;
        secrets.push(bundle);
        const [leafPem] = bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
        expect(leafPem).toBeDefined();
        writeFileSync(join(work, 'leaf.pem'), `${leafPem!}\n`);
        writeFileSync(join(work, 'ca.pem'), await (await fetch(`${credentialsUrl()}/v1/credentials/ca.pem`)).text());
        const verified = execFileSync(OPENSSL, ['verify', '-CAfile', join(work, 'ca.pem'), '-purpose', 'sslclient', join(work, 'leaf.pem')], {
          encoding: 'utf8',
        });
        expect(verified.trim()).toBe(`${join(work, 'leaf.pem')}: OK`);

        const leaf = new X509Certificate(leafPem!);
        const expiresAt = await grantExpiry(grantId);
        expect(leaf.validToDate.getTime()).toBe(Math.floor(expiresAt.getTime() / 1000) * 1000);
        expect(leaf.subject).toBe(`CN=${pipeline}`);
        expect(leaf.subjectAltName).toBe(`URI:spiffe://grantline/${pipeline}`);

        // Revoked with its grant: the CA's CRL lists it, and openssl refuses it with the CRL checked.
        await revoke(grantId);
        await eventually(async () => {
          writeFileSync(join(work, 'crl.pem'), await (await fetch(`${credentialsUrl()}/v1/credentials/crl`)).text());
          let refusal = '';
          try {
            execFileSync(OPENSSL, ['verify', '-crl_check', '-CAfile', join(work, 'ca.pem'), '-CRLfile', join(work, 'crl.pem'), join(work, 'leaf.pem')], {
              encoding: 'utf8',
              stdio: 'pipe',
            });
          } catch (error) {
            // openssl names the reason on stderr ("error 23 at 0 depth lookup: certificate revoked").
            const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
            refusal = `${stdout}${stderr}`;
          }
          expect(refusal).toMatch(/certificate revoked/);
        }, WAIT);
      })();
    },
    SCENARIO_TIMEOUT_MS,
  );

  it(
    "replaces the pipeline's JWT when its owner changes: the new owner retrieves a new token once (same exp), the former owner cannot, the old jti is revoked",
    async () => {
      await platform.withLogs(async () => {
        requestId = await api.submitOk(tokens['pipeline']!, {
          subject: { id: pipeline, kind: 'ci_pipeline' },
          entitlementIds: ['deploy-token-prod'],
          justification: 'hotfix 2026.12.04 deploys the orders service',
          ticket: { system: 'jira', id: `REL-${platform.runId}-2` },
          duration: 'PT12H',
        });
        for (const [stage, who] of [
          ['resource_owner', 'resourceOwner'],
          ['nhi_owner', 'owner'],
          ['security', 'reviewer'],
        ] as const) {
          const task = await openTask(tokens[who]!, stage);
          expect((await api.decide(tokens[who]!, task, 'approve', 'hotfix window agreed')).status).toBe(200);
        }
        const view = await eventually(api.requestInStatus(tokens['pipeline']!, requestId, 'provisioned'), WAIT);
        const grantId = view.grants[0]!.grantId;
        await eventually(async () => {
          const issued = (await log.read([TOPICS.grants])).some(
            (event) => event.type === 'iga.grant.credential-issued.v1' && (event.data as { grantId: string }).grantId === grantId,
          );
          expect(issued).toBe(true);
        }, WAIT);
        // The owner of record takes the JWT while they own the pipeline.
        const before = await retrieve(grantId, tokens['owner']!);
        expect(before.status).toBe(200);
        const oldJwt = before.body.secret;
        secrets.push(oldJwt);
        const jwks = (await (await fetch(`${credentialsUrl()}/.well-known/jwks.json`)).json()) as JSONWebKeySet;
        const old = (await jwtVerify(oldJwt, createLocalJWKSet(jwks), { issuer: ISSUER, audience: 'deploy-api-prod' })).payload;
        expect(old.jti).toBe(grantId);

        // A governed transfer: the owner proposes, the new owner accepts.
        // Retried until the intake's directory knows the new owner (it is folded from the log).
        const proposal = await eventually(async () => {
          const proposed = await platform.call<{ transferId: string }>('intake', 'POST', `/v1/identities/${pipeline}/owner-transfers`, {
            token: tokens['owner']!,
            body: { newOwnerId: newOwner, reason: 'the release team moves to the platform group' },
          });
          expect(proposed.status).toBe(202);
          return proposed;
        }, WAIT);
        await eventually(async () => {
          const accepted = await platform.call('intake', 'POST', `/v1/identities/${pipeline}/owner-transfers/${proposal.body.transferId}/accept`, {
            token: tokens['newOwner']!,
            body: { comment: 'taking the pipeline over' },
          });
          expect(accepted.status).toBe(202);
        }, WAIT);

        // Provisioning asks the issuer for a replacement; the grant records the new credential (a reference, a fingerprint).
        const replaced = await eventually(async () => {
          const rotated = (await log.read([TOPICS.grants])).find(
            (event) => event.type === 'iga.grant.credential-rotated.v2' && (event.data as { grantId: string }).grantId === grantId,
          );
          expect(rotated).toBeDefined();
          return (rotated!.data as { credential: { credentialId: string; fingerprint: string; expiresAt: string } }).credential;
        }, WAIT);
        expect(replaced.credentialId).not.toBe(grantId);
        const requested = (await log.read([TOPICS.grants])).find(
          (event) => event.type === 'iga.grant.rotation-requested.v2' && (event.data as { grantId: string }).grantId === grantId,
        );
        expect(requested?.data).toMatchObject({ reason: 'owner_changed', credential: { holders: [newOwner, pipeline] } });

        // The former owner is no holder of the new credential: the 404 an unknown credential gets.
        expect((await retrieve(replaced.credentialId, tokens['owner']!)).status).toBe(404);
        const fresh = await retrieve(replaced.credentialId, tokens['newOwner']!);
        expect(fresh.status).toBe(200);
        const newJwt = fresh.body.secret;
        secrets.push(newJwt);
        expect((await retrieve(replaced.credentialId, tokens['newOwner']!)).status).toBe(410);
        const { payload } = await jwtVerify(newJwt, createLocalJWKSet(jwks), { issuer: ISSUER, audience: 'deploy-api-prod' });
        expect(payload).toMatchObject({ sub: pipeline, jti: replaced.credentialId, exp: old.exp });

        // The old token is on the signed revocation list; the new one is not.
        await eventually(async () => {
          const list = await (await fetch(`${credentialsUrl()}/v1/credentials/revocations`)).text();
          const revoked = (await jwtVerify(list, createLocalJWKSet(jwks), { issuer: ISSUER })).payload['revoked'] as { jti: string }[];
          expect(revoked).toEqual(expect.arrayContaining([{ jti: grantId, exp: old.exp }]));
          expect(revoked.map((entry) => entry.jti)).not.toContain(replaced.credentialId);
        }, WAIT);
      })();
    },
    SCENARIO_TIMEOUT_MS,
  );

  it(
    'leaves no secret in any topic, the dead-letter topic or any service log',
    async () => {
      await platform.withLogs(async () => {
        expect(secrets).toHaveLength(4);
        const topics = [...Object.values(TOPICS), connectorCommandsTopic(CONNECTOR_ID), connectorResultsTopic(CONNECTOR_ID)];
        const events: Envelope[] = await log.read(topics);
        expect(events.length).toBeGreaterThan(0);
        const onTheLog = JSON.stringify(events);
        const logs = readdirSync(platform.logDir)
          .filter((file) => file.endsWith('.log'))
          .map((file) => readFileSync(join(platform.logDir, file), 'utf8'))
          .join('\n');
        expect(logs.length).toBeGreaterThan(0);
        for (const secret of secrets) {
          // The whole secret, and the part no public value shares (the JWT's signature, the private key's body).
          const distinctive = secret.startsWith('-----BEGIN PRIVATE KEY-----') ? secret.split('-----')[2]!.trim() : secret.split('.')[2]!;
          for (const needle of [secret, distinctive]) {
            expect(onTheLog.includes(needle)).toBe(false);
            expect(logs.includes(needle)).toBe(false);
          }
        }
        const deadLetters = events.filter((event) => event.type.startsWith('iga.messaging.dead-lettered'));
        expect(deadLetters.every((event) => !secrets.some((secret) => JSON.stringify(event).includes(secret)))).toBe(true);
      })();
    },
    SCENARIO_TIMEOUT_MS,
  );
});
