import { exportEndpoints, readInfraState } from '@grantline/testing';
import type { ComponentRuntime, InfraState } from '@grantline/testing';

/** The Kafka namespace `npm start` runs the local platform in (tools/platform/start.ts). */
export const LOCAL_PLATFORM_NAMESPACE = 'local';

/**
 * On a developer's checkout whose local infrastructure runs (`npm start`, `npm run infra:up`), the CLI talks to it as
 * the tests do: its endpoints, and on the SASL broker the bootstrap admin's login from the gitignored credentials
 * file, in the local platform's namespace unless another is given. Only when KAFKA_BROKERS is not set: a deployment's
 * settings always win. Returns what it used, for the one line the CLI prints, or undefined.
 */
export function useLocalInfrastructure(env: NodeJS.ProcessEnv, state: InfraState | undefined): string | undefined {
  if ((env['KAFKA_BROKERS'] ?? '').trim() !== '' || state?.components.kafka === undefined) return undefined;
  const components = [state.components.kafka, state.components.mongo, state.components.postgres].filter(
    (component): component is ComponentRuntime => component !== undefined,
  );
  exportEndpoints(components, env);
  env['KAFKA_TOPIC_NAMESPACE'] ??= LOCAL_PLATFORM_NAMESPACE;
  return `the local infrastructure (Kafka ${state.components.kafka.url}${state.components.kafka.security === 'sasl' ? ' as the bootstrap admin' : ''})`;
}

/** The running local infrastructure's state, if this is a checkout that has one; never throws. */
export function localInfraState(): InfraState | undefined {
  try {
    return readInfraState();
  } catch {
    return undefined;
  }
}
