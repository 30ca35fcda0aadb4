import type { Envelope } from './envelope.schema';
import { refOf } from './event-refs';

const withData = (data: unknown): Envelope => ({ data }) as Envelope;

describe('refOf', () => {
  it('given data naming a request and a grant, then each is found', () => {
    const event = withData({ requestId: 'req-1', grantId: 'req-1:orders-read' });
    expect(refOf(event, 'requestId')).toBe('req-1');
    expect(refOf(event, 'grantId')).toBe('req-1:orders-read');
  });

  it.each([[{}], [null], ['text'], [{ requestId: 42 }]])('given data %p, then nothing is named', (data) => {
    expect(refOf(withData(data), 'requestId')).toBeUndefined();
  });
});
