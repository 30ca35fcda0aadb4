import { resolve } from 'node:path';
import { Module } from '@nestjs/common';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import request from 'supertest';
import { loadBundleFromDirectory, readBundleDirectory } from '@grantline/policy-engine';
import { POLICY_BUNDLE } from '../decisions/policy-bundle.provider';
import { POLICY_CLOCK } from '../decisions/policy-clock';
import { SimulateController } from './simulate.controller';

const POLICIES = resolve(__dirname, '../../../../policies');
const NOW = new Date('2025-06-02T10:00:00.000Z');

@Module({
  controllers: [SimulateController],
  providers: [
    { provide: POLICY_BUNDLE, useValue: loadBundleFromDirectory(POLICIES) },
    { provide: POLICY_CLOCK, useValue: () => NOW },
  ],
})
class SimulateSpecModule {}

const humanRead = {
  request: { id: 'sim-1', duration: 'P7D', justification: 'reading the wiki for onboarding' },
  subject: { id: 'alice', kind: 'human', manager: 'bob' },
  entitlements: [{ id: 'wiki-read', system: 'wiki', sensitivity: 'low', environment: 'nonprod', privilege: 'read', owner: 'erin' }],
};

describe('POST /v1/policy/simulate (in process, no infrastructure)', () => {
  let app: INestApplication;

  beforeAll(async () => {
    app = await NestFactory.create(SimulateSpecModule, { logger: false });
    await app.init();
  });

  afterAll(async () => {
    await app.close();
  });

  it('returns the full decision with its trace, timed by the service clock when no time is given', async () => {
    const response = await request(app.getHttpServer()).post('/v1/policy/simulate').send(humanRead).expect(200);
    expect(response.body).toMatchObject({
      bundle: { name: 'grantline-default', draft: false },
      decision: { effect: 'auto_approve', matchedRules: ['human-low-nonprod-read'], provenance: { input: { now: NOW.toISOString(), requester: { id: 'alice' } } } },
    });
    expect(response.body.trace.length).toBeGreaterThan(0);
  });

  it('answers a bad body with 400 application/problem+json naming every bad field', async () => {
    const response = await request(app.getHttpServer())
      .post('/v1/policy/simulate')
      .send({ ...humanRead, subject: { id: 'alice', kind: 'robot' }, entitlements: [], surprise: true })
      .expect(400);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    const fields = (JSON.parse(response.text) as { errors: { field: string }[] }).errors.map((error) => error.field);
    expect(fields).toEqual(expect.arrayContaining(['subject.kind', 'entitlements', 'surprise']));
  });

  it('evaluates with a draft bundle when one is sent', async () => {
    const files = readBundleDirectory(POLICIES).map((file) =>
      file.path.endsWith('humans.yaml') ? { ...file, content: file.content.replace('effect: auto_approve', 'effect: deny') } : file,
    );
    const response = await request(app.getHttpServer()).post('/v1/policy/simulate').send({ ...humanRead, bundle: { files } }).expect(200);
    expect(response.body).toMatchObject({ bundle: { draft: true }, decision: { effect: 'deny' } });
  });

  it('answers a bad draft bundle with 400 and file:line errors', async () => {
    const files = [...readBundleDirectory(POLICIES), { path: 'broken.yaml', content: 'kind: RuleSet\nrules:\n  - id: broken\n    when: "subject.id =="\n    effect: deny\n    reason: x\n' }];
    const response = await request(app.getHttpServer()).post('/v1/policy/simulate').send({ ...humanRead, bundle: { files } }).expect(400);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    const body = JSON.parse(response.text) as { title: string; errors: { location: string }[] };
    expect(body.title).toBe('Invalid policy bundle');
    expect(body.errors[0]?.location).toMatch(/^broken\.yaml:\d+:\d+$/);
  });
});
