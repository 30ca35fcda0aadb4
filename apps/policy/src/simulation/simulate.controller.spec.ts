import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Module } from '@nestjs/common';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import request from 'supertest';
import { PolicyAccessDenied, TOPICS, registry } from '@grantline/contracts';
import type { Envelope } from '@grantline/contracts';
import { fixedClock } from '@grantline/decider';
import { DEFAULT_AUDIENCE, DEV_ISSUER, ensureDevIssuerKey, mintDevToken } from '@grantline/http-edge';
import type { GrantlineRole } from '@grantline/http-edge';
import { InMemoryMessageBus } from '@grantline/messaging';
import { MessagingModule } from '@grantline/messaging-nest';
import { DRAFT_LIMITS, loadBundleFromDirectory, loadBundleFromFiles, readBundleDirectory } from '@grantline/policy-engine';
import { ApiAuthModule, clockProvider } from '@grantline/service-kit';
import { eventually } from '@grantline/testing';
import { POLICY_BUNDLE } from '../decisions/policy-bundle.provider';
import { SimulateController } from './simulate.controller';

const POLICIES = resolve(__dirname, '../../../../policies');
const NOW = new Date('2025-06-02T10:00:00.000Z');
const issuerDir = mkdtempSync(join(tmpdir(), 'policy-simulate-issuer-'));
const bus = new InMemoryMessageBus({ registry });

// The kit's bearer auth in dev mode over this spec's issuer key; refusals recorded on an in-memory log.
@Module({
  imports: [
    MessagingModule.forRoot({ clientId: 'policy-simulate-spec', registry, bus }),
    ApiAuthModule.forRoot({ serviceName: 'policy', deniedEvent: PolicyAccessDenied, env: { AUTH_MODE: 'dev', DEV_ISSUER_DIR: issuerDir } }),
  ],
  controllers: [SimulateController],
  providers: [{ provide: POLICY_BUNDLE, useValue: loadBundleFromDirectory(POLICIES) }, clockProvider(fixedClock(NOW))],
})
class SimulateSpecModule {}

const shippedFiles = () => readBundleDirectory(POLICIES);
/** A 256-element list literal: the most a draft's list may hold. */
const LIST = `[${Array.from({ length: DRAFT_LIMITS.cel.maxListElements }, (_, i) => i).join(',')}]`;
const ruleSet = (rules: readonly { id: string; when: string }[]): string =>
  ['kind: RuleSet', 'rules:', ...rules.flatMap((rule) => [`  - id: ${rule.id}`, `    when: '${rule.when}'`, '    effect: deny', '    reason: spec']), ''].join(
    '\n',
  );

const humanRead = {
  request: { id: 'sim-1', duration: 'P7D', justification: 'reading the wiki for onboarding' },
  subject: { id: 'alice', kind: 'human', manager: 'bob' },
  entitlements: [{ id: 'wiki-read', system: 'wiki', sensitivity: 'low', environment: 'nonprod', privilege: 'read', owner: 'erin' }],
};

describe('POST /v1/policy/simulate (in process, no infrastructure)', () => {
  let app: INestApplication;
  const tokens = new Map<string, string>();
  /** `Bearer` for a person holding `roles` (and member), or for a workload. */
  const as = (who: string): string => `Bearer ${tokens.get(who) ?? ''}`;
  const simulateAs = (who: string | undefined, body: unknown) => {
    const call = request(app.getHttpServer()).post('/v1/policy/simulate');
    return (who === undefined ? call : call.set('Authorization', as(who))).send(body as object);
  };

  beforeAll(async () => {
    const key = await ensureDevIssuerKey(issuerDir);
    const mint = (subject: string, roles: GrantlineRole[], workload = false): Promise<string> =>
      mintDevToken(key, { subject, audience: DEFAULT_AUDIENCE, issuer: DEV_ISSUER, ttlSeconds: 600, roles, ...(workload ? { workload } : {}) });
    tokens.set('author', await mint('pat-author', ['policy-author']));
    tokens.set('security', await mint('sam-security', ['security']));
    tokens.set('member', await mint('mallory', []));
    tokens.set('auditor', await mint('anna-auditor', ['auditor']));
    tokens.set('workload', await mint('hr-feed', ['identity-source'], true));
    app = await NestFactory.create(SimulateSpecModule, { logger: false });
    await app.init();
  });

  afterAll(async () => {
    await app.close();
    rmSync(issuerDir, { recursive: true, force: true });
  });

  it('returns the full decision with its trace, timed by the service clock when no time is given', async () => {
    const response = await simulateAs('author', humanRead).expect(200);
    expect(response.body).toMatchObject({
      bundle: { name: 'grantline-default', draft: false },
      decision: {
        effect: 'auto_approve',
        matchedRules: ['human-low-nonprod-read'],
        provenance: { input: { now: NOW.toISOString(), requester: { id: 'alice' } } },
      },
    });
    expect(response.body.trace.length).toBeGreaterThan(0);
  });

  it('answers a bad body with 400 application/problem+json naming every bad field', async () => {
    const response = await simulateAs('security', { ...humanRead, subject: { id: 'alice', kind: 'robot' }, entitlements: [], surprise: true }).expect(400);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    const fields = (JSON.parse(response.text) as { errors: { field: string }[] }).errors.map((error) => error.field);
    expect(fields).toEqual(expect.arrayContaining(['subject.kind', 'entitlements', 'surprise']));
  });

  it('evaluates with a draft bundle when one is sent', async () => {
    const files = readBundleDirectory(POLICIES).map((file) =>
      file.path.endsWith('humans.yaml') ? { ...file, content: file.content.replace('effect: auto_approve', 'effect: deny') } : file,
    );
    const response = await simulateAs('author', { ...humanRead, bundle: { files } }).expect(200);
    expect(response.body).toMatchObject({ bundle: { draft: true }, decision: { effect: 'deny' } });
  });

  it('answers a bad draft bundle with 400 and file:line errors', async () => {
    const files = [
      ...readBundleDirectory(POLICIES),
      { path: 'broken.yaml', content: 'kind: RuleSet\nrules:\n  - id: broken\n    when: "subject.id =="\n    effect: deny\n    reason: x\n' },
    ];
    const response = await simulateAs('author', { ...humanRead, bundle: { files } }).expect(400);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    const body = JSON.parse(response.text) as { title: string; errors: { location: string }[] };
    expect(body.title).toBe('Invalid policy bundle');
    expect(body.errors[0]?.location).toMatch(/^broken\.yaml:\d+:\d+$/);
  });
  describe('authorization: policy authors and security only, decided before the body is read', () => {
    it('answers 401 without a token, 403 to anyone without the role (whatever the body), and records the refusal', async () => {
      await simulateAs(undefined, humanRead)
        .expect(401)
        .expect('content-type', /application\/problem\+json/);
      for (const who of ['member', 'auditor', 'workload']) {
        await simulateAs(who, humanRead).expect(403);
        await simulateAs(who, { surprise: true }).expect(403);
      }
      const recorded = await eventually(() => {
        const events = bus.events(TOPICS.decisions).filter((event: Envelope) => event.type === 'iga.policy.access-denied.v1' && event.subject === 'mallory');
        expect(events).toHaveLength(2);
        return events;
      });
      expect(recorded[0]).toMatchObject({
        source: 'grantline/policy',
        data: {
          service: 'policy',
          operation: 'POST /v1/policy/simulate',
          status: 403,
          principalKind: 'person',
          reason: 'requires one of the roles policy-author, security',
        },
      });
    });
  });

  describe('draft bundles are bounded: a draft cannot stall the service', () => {
    it('refuses an expression over a compile-time limit with 400, naming the rule and the limit', async () => {
      const cases: [string, string, RegExp][] = [
        ['too-long', `subject.id == "${'x'.repeat(DRAFT_LIMITS.cel.maxExpressionChars)}"`, /rule "too-long": .*maxExpressionChars \(4000\)/],
        ['too-big', `${LIST} == ${LIST} && ${LIST} == ${LIST}`, /rule "too-big": .*maxAstNodes \(1000\)/],
        ['too-nested', `${'[1, 2]'}.all(a, [1, 2].all(b, [1, 2].all(c, a + b + c > 0)))`, /rule "too-nested": .*maxComprehensionNesting \(2\)/],
        ['regex', 'subject.id.matches("^(a+)+$")', /rule "regex": matches\(\) is not allowed in a draft bundle/],
      ];
      for (const [id, when, message] of cases) {
        const files = [...shippedFiles(), { path: 'draft.yaml', content: ruleSet([{ id, when }]) }];
        const response = await simulateAs('author', { ...humanRead, bundle: { files } }).expect(400);
        const body = response.body as { title: string; detail: string; errors: { location: string; message: string }[] };
        expect(body.title).toBe('Invalid policy bundle');
        expect(body.errors).toEqual([
          expect.objectContaining({ location: expect.stringMatching(/^draft\.yaml:\d+:\d+$/), message: expect.stringMatching(message) }),
        ]);
      }
    });

    it('stops a draft over the evaluation budget with 400 naming the rule and the limit', async () => {
      // Each condition walks 256 x 256 pairs (about half a million steps): within every compile-time limit, but
      // three of them exceed what one decision may evaluate.
      const bomb = `${LIST}.all(a, ${LIST}.all(b, a + b >= 0))`;
      const files = [...shippedFiles(), { path: 'draft.yaml', content: ruleSet(['bomb-1', 'bomb-2', 'bomb-3'].map((id) => ({ id, when: bomb }))) }];
      const started = Date.now();
      const response = await simulateAs('author', { ...humanRead, bundle: { files } }).expect(400);
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(response.body).toMatchObject({
        type: 'https://grantline.dev/problems/draft-limit-exceeded',
        detail: expect.stringMatching(/^rule "bomb-\d": evaluation exceeds the draft bundle limit maxEvaluation(Steps|Millis)/),
      });
    });

    it('leaves the shipped bundle alone: compiled without the draft limits, never metered', async () => {
      const nested = ruleSet([{ id: 'nested', when: '[1, 2].all(a, [1, 2].all(b, [1, 2].all(c, a + b + c > 0)))' }]);
      // What a draft may not hold, a reviewed bundle may: the limits are for what arrives over HTTP.
      expect(() => loadBundleFromFiles([...shippedFiles(), { path: 'nested.yaml', content: nested }])).not.toThrow();
      expect(loadBundleFromDirectory(POLICIES).budget).toBeUndefined();
      const response = await simulateAs('author', humanRead).expect(200);
      expect(response.body).toMatchObject({ bundle: { draft: false }, decision: { effect: 'auto_approve' } });
    });
  });
});
