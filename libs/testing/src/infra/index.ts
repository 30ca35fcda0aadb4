export { DOCKER_IMAGES, FERRETDB_VERSION, KAFKA_VERSION, infraPaths, infraPorts } from './infra.config';
export type { InfraPaths } from './infra.config';
export {
  checkHealth,
  describeComponent,
  exportEndpoints,
  infraDown,
  infraSelection,
  infraStatus,
  infraUp,
  readInfraState,
} from './infra-manager';
export type { InfraDownOptions, InfraSelection, InfraUpOptions, InfraUpResult } from './infra-manager';
export { acquireLease, otherLiveLeases, releaseLease } from './infra-lock';
export { MissingPrerequisiteError } from './prerequisites';
export { endpointEnv, infraComponents } from './infra.types';
export type { ComponentHealth, ComponentRuntime, InfraComponent, InfraLog, InfraMode, InfraOwner, InfraState } from './infra.types';
export { startPrivateFerretdb, startPrivatePostgres } from './private-servers';
export type { PrivateServer, PrivateServerOptions } from './private-servers';
