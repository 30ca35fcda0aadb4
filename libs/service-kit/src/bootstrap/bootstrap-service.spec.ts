import { runFixture } from './run-fixture';

describe('bootstrapService with a bad environment', () => {
  it('exits 1 before connecting anywhere, with one JSON line naming every bad variable', async () => {
    const fixture = runFixture({ PORT: 'http', LOG_LEVEL: 'info' });
    expect(await fixture.exited).toEqual({ code: 1, signal: null });
    const [record] = fixture.records();
    expect(record).toMatchObject({ level: 'fatal', service: 'bootstrap-fixture', context: 'bootstrap' });
    expect(record?.['msg']).toMatch(/PORT: .*KAFKA_BROKERS: .*MONGO_URL: /);
    expect(record?.['problems']).toEqual(
      expect.arrayContaining([expect.objectContaining({ variable: 'KAFKA_BROKERS' }), expect.objectContaining({ variable: 'MONGO_URL' })]),
    );
  });
});
