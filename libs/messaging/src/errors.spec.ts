import { classifyError, RetriableError, TerminalError } from './errors';

describe('classifyError', () => {
  it('treats only RetriableError as retriable', () => {
    expect(classifyError(new RetriableError('broker busy'))).toBe('retriable');
    expect(classifyError(new TerminalError('bad data'))).toBe('terminal');
    expect(classifyError(new Error('unknown'))).toBe('terminal');
    expect(classifyError('a string')).toBe('terminal');
  });
});
