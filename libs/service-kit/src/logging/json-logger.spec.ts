import { Writable } from 'node:stream';
import { JsonLogger } from './json-logger';

function capture(level: 'info' | 'debug' | 'trace' = 'info'): { logger: JsonLogger; records: () => Record<string, unknown>[] } {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(chunk.toString('utf8'));
      callback();
    },
  });
  const logger = new JsonLogger({ serviceName: 'intake', level, destination });
  return {
    logger,
    records: () =>
      lines
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

describe('JsonLogger', () => {
  it('writes one JSON line per record with service, level, time, context and msg', () => {
    const { logger, records } = capture();
    logger.log('Nest application successfully started', 'NestApplication');
    expect(records()).toEqual([
      {
        level: 'info',
        time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
        service: 'intake',
        pid: process.pid,
        context: 'NestApplication',
        msg: 'Nest application successfully started',
      },
    ]);
  });

  it("takes Nest's (message, stack, context) for errors", () => {
    const { logger, records } = capture();
    logger.error('boom', 'Error: boom\n    at x', 'ExceptionsHandler');
    logger.error('no stack', undefined, 'Router');
    expect(records()).toEqual([
      expect.objectContaining({ level: 'error', msg: 'boom', context: 'ExceptionsHandler', stack: 'Error: boom\n    at x' }),
      expect.objectContaining({ level: 'error', msg: 'no stack', context: 'Router' }),
    ]);
    expect(records()[1]).not.toHaveProperty('stack');
  });

  it('takes the messaging port (message, fields) and keeps the default context', () => {
    const { logger, records } = capture();
    logger.withContext('messaging').warn('message dead-lettered', { topic: 't', partition: 2, offset: '7' });
    expect(records()).toEqual([
      expect.objectContaining({ level: 'warn', msg: 'message dead-lettered', context: 'messaging', topic: 't', partition: 2, offset: '7' }),
    ]);
  });

  it('serialises errors and object messages', () => {
    const { logger, records } = capture();
    logger.error('start-up failed', new TypeError('bad'));
    logger.log({ msg: 'ready', port: 3101 }, 'bootstrap');
    const [failed, ready] = records();
    expect(failed).toMatchObject({ msg: 'start-up failed', err: { type: 'TypeError', message: 'bad' } });
    expect(ready).toMatchObject({ msg: 'ready', port: 3101, context: 'bootstrap' });
  });

  it('maps Nest levels onto pino levels and filters below the configured one', () => {
    const { logger, records } = capture('debug');
    logger.verbose('too chatty');
    logger.debug('kept');
    logger.fatal('gone');
    expect(records().map((r) => [r['level'], r['msg']])).toEqual([
      ['debug', 'kept'],
      ['fatal', 'gone'],
    ]);
  });

  it('censors credentials handed to a log call by mistake (docs/adr/0017)', () => {
    const { logger, records } = capture();
    const secret = 'x'.repeat(32);
    logger.info('connecting', { password: secret, kafka: { sasl: { username: 'intake', password: secret } }, env: { KAFKA_SASL_PASSWORD: secret } });
    const line = JSON.stringify(records());
    expect(line).not.toContain(secret);
    expect(records()[0]).toMatchObject({ password: '[redacted]', kafka: { sasl: '[redacted]' }, env: { KAFKA_SASL_PASSWORD: '[redacted]' } });
  });
});
