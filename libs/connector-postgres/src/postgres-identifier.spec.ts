import { ConnectorError } from '@grantline/connector-sdk';
import { assertRoleName, quoteRole } from './postgres-identifier';

describe('role names', () => {
  it('quotes a valid name', () => {
    expect(quoteRole('app_readers', 'entitlement')).toBe('"app_readers"');
  });

  it.each([
    'App_Readers',
    'readers; DROP ROLE postgres',
    'x" TO "postgres',
    '1abc',
    '',
    'a'.repeat(64),
    'pg_read_server_files',
    'public',
    'current_user',
    'naïve',
  ])('refuses %j as invalid_request before any SQL is built', (name) => {
    let caught: unknown;
    try {
      assertRoleName(name, 'account');
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConnectorError);
    expect(caught).toMatchObject({ code: 'invalid_request', errorClass: 'terminal' });
  });
});
