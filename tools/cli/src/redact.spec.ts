import { redactRecord } from './redact';

const SECRET = 'S3cr3t-value-42';

describe('redacting an original record before an operator sees it', () => {
  it('given secret-looking keys, tokens and PEM keys at any depth, then they are redacted and the rest is kept', () => {
    const record = {
      id: 'evt-1',
      type: 'iga.spec.thing.v1',
      data: {
        user: 'alice',
        password: SECRET,
        tokenRef: 'vault:kv/app#token',
        nested: [
          { clientSecret: SECRET },
          { note: `Bearer ${SECRET}` },
          { pem: `-----BEGIN RSA PRIVATE KEY-----\n${SECRET}` },
          { jwt: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0.sig' },
        ],
      },
    };

    expect(redactRecord(record)).toEqual({
      id: 'evt-1',
      type: 'iga.spec.thing.v1',
      data: {
        user: 'alice',
        password: '[redacted]',
        tokenRef: 'vault:kv/app#token',
        nested: [{ clientSecret: '[redacted]' }, { note: '[redacted]' }, { pem: '[redacted]' }, { jwt: '[redacted]' }],
      },
    });
  });

  it('given the paths a record was refused for, then those fields are redacted whatever their name (the refused value may be the secret)', () => {
    const record = { data: { justification: SECRET, items: [{ id: 'a', label: SECRET }], keep: 'me' } };

    expect(redactRecord(record, ['data.justification', 'data.items.0.label', ''])).toEqual({
      data: { justification: '[redacted]', items: [{ id: 'a', label: '[redacted]' }], keep: 'me' },
    });
  });
});
