import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';

export interface ScramVerifierOptions {
  salt?: Buffer;
  iterations?: number;
}

/**
 * The SCRAM-SHA-256 verifier PostgreSQL stores for a password (RFC 5802 / 7677), computed on
 * our side so CREATE/ALTER ROLE never carries the plain secret: statement logs, pg_stat_activity
 * and the server's error messages would otherwise show it. Same thing psql's \password does.
 * The password must be ASCII (SASLprep is then the identity); ours are base64url.
 */
export function scramSha256Verifier(password: string, options: ScramVerifierOptions = {}): string {
  if (!/^[\x21-\x7e]+$/.test(password)) throw new RangeError('password must be printable ASCII');
  const salt = options.salt ?? randomBytes(16);
  const iterations = options.iterations ?? 4096;
  const salted = pbkdf2Sync(password, salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}
