import { prettyLogLine } from './pretty-log';

const plain = { colour: false };

describe('prettyLogLine', () => {
  it('given a JSON record, then it reads as time, level, context, message and the other fields', () => {
    const line = JSON.stringify({
      level: 'info',
      time: '2026-12-03T18:40:01.234Z',
      service: 'intake',
      pid: 42,
      context: 'http',
      msg: 'POST /v1/requests 202',
      method: 'POST',
      status: 202,
      ms: 12.5,
      requestId: 'a1',
    });

    expect(prettyLogLine(line, plain)).toBe('18:40:01.234 INFO  [http] POST /v1/requests 202  method=POST status=202 ms=12.5 requestId=a1');
  });

  it('given an error record, then the error reads as type and message, and colours mark the level when asked', () => {
    const line = JSON.stringify({
      level: 'error',
      time: '2026-12-03T18:40:01.234Z',
      msg: 'handler failed',
      err: { type: 'MongoServerError', message: 'down', stack: '…' },
    });

    expect(prettyLogLine(line, plain)).toBe('18:40:01.234 ERROR handler failed  err="MongoServerError: down"');
    expect(prettyLogLine(line, { colour: true })).toContain('\u001b[31mERROR\u001b[0m');
  });

  it('given a line that is not a JSON record, then it is left as it is', () => {
    expect(prettyLogLine('Debugger listening on ws://127.0.0.1', plain)).toBe('Debugger listening on ws://127.0.0.1');
    expect(prettyLogLine('{"not":"a record"}', plain)).toBe('{"not":"a record"}');
  });

  it('given a long value, then it is clipped', () => {
    const line = JSON.stringify({ level: 'warn', time: '2026-12-03T18:40:01.234Z', msg: 'slow', detail: 'x'.repeat(50) });

    expect(prettyLogLine(line, { colour: false, maxValueLength: 10 })).toBe(`18:40:01.234 WARN  slow  detail=${'x'.repeat(9)}…`);
  });
});
