/** A Kafka principal's SCRAM-SHA-512 login (docs/adr/0017). Never logged, never put in an error message. */
export interface KafkaSaslCredentials {
  readonly username: string;
  readonly password: string;
}

/**
 * Credentials whose password is not enumerable: a config object logged or serialised by mistake (`JSON.stringify`,
 * pino, `util.inspect`, an object spread) carries the user name only.
 */
export function kafkaSaslCredentials(username: string, password: string): KafkaSaslCredentials {
  const credentials = { username } as { username: string; password: string };
  Object.defineProperty(credentials, 'password', { value: password, enumerable: false });
  return credentials;
}

export const KAFKA_SASL_USERNAME_ENV = 'KAFKA_SASL_USERNAME';
export const KAFKA_SASL_PASSWORD_ENV = 'KAFKA_SASL_PASSWORD';

/**
 * The login in the environment (`KAFKA_SASL_USERNAME` + `KAFKA_SASL_PASSWORD`), or undefined when neither is set
 * (a plaintext broker). The test harness exports them like `KAFKA_BROKERS` when the broker runs with SASL, so every
 * bus a spec builds authenticates without naming credentials; a service reads them through its validated config.
 * One without the other fails, naming the missing variable (never the value).
 */
export function kafkaSaslFromEnv(env: NodeJS.ProcessEnv = process.env): KafkaSaslCredentials | undefined {
  const username = (env[KAFKA_SASL_USERNAME_ENV] ?? '').trim();
  const password = env[KAFKA_SASL_PASSWORD_ENV] ?? '';
  if (username === '' && password === '') return undefined;
  if (username === '') throw new Error(`${KAFKA_SASL_USERNAME_ENV} is not set but ${KAFKA_SASL_PASSWORD_ENV} is: set both or neither`);
  if (password === '') throw new Error(`${KAFKA_SASL_PASSWORD_ENV} is not set but ${KAFKA_SASL_USERNAME_ENV} is: set both or neither`);
  return kafkaSaslCredentials(username, password);
}

/**
 * The `sasl` option of a raw kafkajs client (specs' foreign producers, benchmarks' baselines) from the environment:
 * the login the test harness exports on a SASL broker, nothing on a plaintext one.
 */
export function kafkajsSaslFromEnv(env: NodeJS.ProcessEnv = process.env): { sasl?: { mechanism: 'scram-sha-512'; username: string; password: string } } {
  const login = kafkaSaslFromEnv(env);
  return login === undefined ? {} : { sasl: { mechanism: 'scram-sha-512', username: login.username, password: login.password } };
}

/** The login variables of the environment, to hand to a child process started with an environment of its own. */
export function kafkaSaslEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return kafkaSaslFromEnv(env) === undefined
    ? {}
    : { [KAFKA_SASL_USERNAME_ENV]: env[KAFKA_SASL_USERNAME_ENV], [KAFKA_SASL_PASSWORD_ENV]: env[KAFKA_SASL_PASSWORD_ENV] };
}
