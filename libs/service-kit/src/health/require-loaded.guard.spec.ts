import { Controller, Get, Injectable, Module, UseGuards } from '@nestjs/common';
import type { INestApplication } from '@nestjs/common';
import { APP_FILTER, NestFactory } from '@nestjs/core';
import request from 'supertest';
import { ProblemDetailsFilter } from '@grantline/http-edge';
import type { StateReadiness } from '@grantline/messaging';
import { RequireLoaded } from './require-loaded.guard';

/** A state holder the spec loads by hand. */
@Injectable()
class SpecState implements StateReadiness {
  readonly name = 'spec state';
  loaded = false;
  lastError: string | undefined = 'Error: broker unavailable';

  isReady(): boolean {
    return this.loaded;
  }
}

@Controller('things')
@UseGuards(RequireLoaded(SpecState))
class ThingsController {
  @Get()
  list(): { things: string[] } {
    return { things: ['from the loaded state'] };
  }
}

@Module({ controllers: [ThingsController], providers: [SpecState, { provide: APP_FILTER, useClass: ProblemDetailsFilter }] })
class SpecModule {}

describe('RequireLoaded', () => {
  let app: INestApplication;

  beforeAll(async () => {
    app = await NestFactory.create(SpecModule, { logger: false });
    await app.init();
  });

  afterAll(() => app.close());

  it('answers 503 problem+json naming the state and its last error until it is loaded, then lets the route answer', async () => {
    const state = app.get(SpecState);
    const refused = await request(app.getHttpServer())
      .get('/things')
      .expect(503)
      .expect('content-type', /application\/problem\+json/);
    expect(refused.body).toEqual({
      type: 'https://grantline.dev/problems/state-not-loaded',
      title: 'Service state not loaded',
      status: 503,
      detail: 'spec state is not loaded (last error: Error: broker unavailable); try again later',
    });

    state.lastError = undefined;
    expect((await request(app.getHttpServer()).get('/things').expect(503)).body.detail).toBe('spec state is not loaded (it is still loading); try again later');

    state.loaded = true;
    expect((await request(app.getHttpServer()).get('/things').expect(200)).body).toEqual({ things: ['from the loaded state'] });
  });
});
