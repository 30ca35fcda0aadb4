import { Controller, Get, Module, UseFilters, UseGuards } from '@nestjs/common';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { SignJWT, UnsecuredJWT, exportJWK, generateKeyPair } from 'jose';
import type { CryptoKey } from 'jose';
import request from 'supertest';
import { ProblemDetailsFilter } from '../problem/problem-details.filter';
import { DENIED_ATTEMPTS, DeniedAttempts, RequireRoles } from './authorization';
import type { DeniedAttemptRecord } from './authorization';
import { BEARER_AUTHENTICATOR, BearerAuthGuard, CurrentPrincipal } from './bearer-auth.guard';
import { BearerAuthenticator } from './bearer-authenticator';
import { JwtVerifier } from './jwt-verifier';
import type { Principal } from './jwt-verifier';

const ISSUER = 'https://idp.example.test';
const AUDIENCE = 'grantline';
const PRINCIPAL_HEADER = 'x-grantline-principal';

@Controller('whoami')
@UseFilters(ProblemDetailsFilter)
class WhoAmIController {
  @Get()
  @UseGuards(BearerAuthGuard)
  whoami(@CurrentPrincipal() principal: Principal): { subject: string } {
    return { subject: principal.subject };
  }

  @Get('security')
  @UseGuards(BearerAuthGuard)
  @RequireRoles('security', 'auditor')
  securityOnly(@CurrentPrincipal() principal: Principal): { subject: string; roles: string[] } {
    return { subject: principal.subject, roles: [...principal.roles].sort() };
  }

  @Get('things/:thingId')
  @UseGuards(BearerAuthGuard)
  @RequireRoles('admin')
  adminOnly(): { ok: true } {
    return { ok: true };
  }
}

describe('BearerAuthGuard', () => {
  let key: CryptoKey;
  let verifier: JwtVerifier;
  const apps: INestApplication[] = [];
  const now = (): number => Math.floor(Date.now() / 1000);

  const token = (claims: { iss?: string; aud?: string; exp?: number } = {}): Promise<string> =>
    new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .setIssuer(claims.iss ?? ISSUER)
      .setAudience(claims.aud ?? AUDIENCE)
      .setSubject('bob')
      .setExpirationTime(claims.exp ?? now() + 300)
      .sign(key);

  const appWith = async (authenticator: BearerAuthenticator, recorded?: DeniedAttemptRecord[]): Promise<INestApplication> => {
    const sink = { record: async (record: DeniedAttemptRecord) => void recorded?.push(record) };
    @Module({
      controllers: [WhoAmIController],
      providers: [
        { provide: BEARER_AUTHENTICATOR, useValue: authenticator },
        ...(recorded ? [{ provide: DENIED_ATTEMPTS, useValue: new DeniedAttempts(sink) }] : []),
      ],
    })
    class WhoAmIModule {}
    const app = await NestFactory.create(WhoAmIModule, { logger: false });
    await app.init();
    apps.push(app);
    return app;
  };

  beforeAll(async () => {
    const pair = await generateKeyPair('ES256');
    key = pair.privateKey;
    verifier = JwtVerifier.fromJwks({ keys: [{ ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256' }] }, { issuer: ISSUER, audience: AUDIENCE });
  });
  afterAll(async () => {
    await Promise.all(apps.map((app) => app.close()));
  });

  it('hands the handler the token subject', async () => {
    const app = await appWith(new BearerAuthenticator(verifier));
    const answer = await request(app.getHttpServer())
      .get('/whoami')
      .set('Authorization', `Bearer ${await token()}`)
      .expect(200);
    expect(answer.body).toEqual({ subject: 'bob' });
  });

  it.each([
    ['no token', async () => undefined, 'missing'],
    ['an expired token', () => token({ exp: now() - 120 }), 'expired'],
    [
      'an unsigned (alg none) token',
      async () =>
        new UnsecuredJWT({})
          .setIssuer(ISSUER)
          .setAudience(AUDIENCE)
          .setSubject('bob')
          .setExpirationTime(now() + 300)
          .encode(),
      'unsupported_algorithm',
    ],
    ['a wrong audience', () => token({ aud: 'someone-else' }), 'wrong_audience'],
    ['a wrong issuer', () => token({ iss: 'https://evil.example.test' }), 'wrong_issuer'],
  ])('answers 401 problem+json naming the Authorization header for %s', async (_case, make, reason) => {
    const app = await appWith(new BearerAuthenticator(verifier));
    const bearer = await make();
    const call = request(app.getHttpServer()).get('/whoami');
    const answer = await (bearer === undefined ? call : call.set('Authorization', `Bearer ${bearer}`)).expect(401);
    expect(answer.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(answer.headers['www-authenticate']).toMatch(/^Bearer error="invalid_token"/);
    expect(JSON.parse(answer.text)).toMatchObject({
      type: 'https://grantline.dev/problems/unauthenticated',
      title: 'Authentication required',
      status: 401,
      detail: expect.any(String),
      errors: [{ field: 'Authorization', message: reason }],
    });
  });

  it('a header naming a principal proves nothing: no token, 401', async () => {
    const app = await appWith(new BearerAuthenticator(verifier));
    await request(app.getHttpServer()).get('/whoami').set(PRINCIPAL_HEADER, 'dave').expect(401);
  });

  it('records a refusal with the route as the operation and its parameters as the object, and nothing for a 401', async () => {
    const recorded: DeniedAttemptRecord[] = [];
    const app = await appWith(new BearerAuthenticator(verifier), recorded);
    await request(app.getHttpServer())
      .get('/whoami/things/42')
      .set('Authorization', `Bearer ${await token()}`)
      .expect(403);
    await request(app.getHttpServer()).get('/whoami/things/43').expect(401);
    expect(recorded).toEqual([
      expect.objectContaining({
        principalId: 'bob',
        principalKind: 'person',
        roles: ['member'],
        operation: 'GET /whoami/things/:thingId',
        objectRef: 'thingId=42',
        status: 403,
        reason: 'requires the admin role',
      }),
    ]);
  });

  it('@RequireRoles: a member without the role gets a 403 problem; a holder of the role passes', async () => {
    const app = await appWith(new BearerAuthenticator(verifier));
    const server = app.getHttpServer();
    const answer = await request(server)
      .get('/whoami/security')
      .set('Authorization', `Bearer ${await token()}`)
      .expect(403);
    expect(JSON.parse(answer.text)).toMatchObject({ status: 403, detail: 'requires one of the roles security, auditor' });
    const roleToken = await new SignJWT({ roles: ['security'] })
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject('sam')
      .setExpirationTime(now() + 300)
      .sign(key);
    expect((await request(server).get('/whoami/security').set('Authorization', `Bearer ${roleToken}`).expect(200)).body).toEqual({
      subject: 'sam',
      roles: ['member', 'security'],
    });
  });
});
