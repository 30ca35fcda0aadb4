/** The services `npm start` runs, in start order, with the ports they default to. */
export interface PlatformService {
  readonly name: string;
  readonly port: number;
  readonly main: string;
  /** `false`: the service has no Kafka principal (the gateway speaks HTTP only). */
  readonly kafka?: false;
}

const service = (name: string, port: number): PlatformService => ({ name, port, main: `apps/${name}/src/main.ts` });

export const PLATFORM_SERVICES: readonly PlatformService[] = [
  service('intake', 3101),
  service('policy', 3102),
  service('approval', 3103),
  service('provisioning', 3104),
  service('connector-postgres', 3107),
  // its target is the harness's slapd, which `npm run infra:up` starts with the others
  service('connector-ldap', 3109),
  service('connector-credentials', 3112),
  // its target is the harness's SCIM 2.0 application (tools/scim-target), which `npm run infra:up` starts too
  service('connector-scim', 3111),
  // its target is the platform's own broker (ACLs under the managed prefix jit.), which `npm run infra:up` starts
  service('connector-kafka-acl', 3110),
  service('scheduler', 3105),
  service('audit', 3106),
  service('notifier', 3108),
  // Last: the one origin in front of every public API above (docs/adr/0028).
  { ...service('gateway', 3100), kafka: false },
];

/** Where the gateway finds each service started here: `GATEWAY_<NAME>_URL` (a variable already set wins). */
export function gatewayUpstreamEnv(services: readonly PlatformService[] = PLATFORM_SERVICES): NodeJS.ProcessEnv {
  return Object.fromEntries(
    services
      .filter((candidate) => candidate.name !== 'gateway')
      .map((candidate) => [`GATEWAY_${candidate.name.toUpperCase().replace(/-/g, '_')}_URL`, `http://127.0.0.1:${candidate.port}`]),
  );
}
