export { DOCKER_IMAGES, FERRETDB_VERSION, KAFKA_VERSION, infraPaths, infraPorts } from './infra.config';
export type { InfraPaths } from './infra.config';
export { checkHealth, describeComponent, exportEndpoints, infraDown, infraSelection, infraStatus, infraUp, readInfraState } from './infra-manager';
export type { InfraDownOptions, InfraSelection, InfraUpOptions, InfraUpResult } from './infra-manager';
export { acquireLease, otherLiveLeases, releaseLease } from './infra-lock';
export { MissingPrerequisiteError } from './prerequisites';
export { endpointEnv, infraComponents } from './infra.types';
export type { ComponentHealth, ComponentRuntime, InfraComponent, InfraLog, InfraMode, InfraOwner, InfraState } from './infra.types';
export { startPrivateFerretdb, startPrivateKafka, startPrivatePostgres } from './private-servers';
export type { PrivateKafka, PrivateKafkaOptions, PrivateServer, PrivateServerOptions } from './private-servers';
export {
  KAFKA_ADMIN_USER,
  KAFKA_CREDENTIALS_ENV,
  KAFKA_SECURITY_ENV,
  LOCAL_CONNECTORS,
  LOCAL_KAFKA_PRINCIPALS,
  changeScramUsers,
  ensureKafkaCredentials,
  kafkaCredentialsFile,
  kafkaSecurity,
  localKafkaPrincipals,
  newKafkaPassword,
  readKafkaCredentials,
} from './kafka-security';
export type { KafkaCredentials, KafkaSecurity, KafkaUserSecret, ScramUserChange } from './kafka-security';
export { ensureKafkaLibs, kafkaLibsDir } from './kafka-local.provider';
export { ensurePromtool } from './promtool';
