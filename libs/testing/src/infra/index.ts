export { DOCKER_IMAGES, FERRETDB_VERSION, KAFKA_VERSION, infraPaths, infraPorts } from './infra.config';
export type { InfraPaths } from './infra.config';
export { checkHealth, describeComponent, exportEndpoints, infraDown, infraSelection, infraStatus, infraUp, readInfraState } from './infra-manager';
export type { InfraDownOptions, InfraSelection, InfraUpOptions, InfraUpResult } from './infra-manager';
export { acquireLease, otherLiveLeases, releaseLease } from './infra-lock';
export { MissingPrerequisiteError } from './prerequisites';
export { endpointEnv, infraComponents } from './infra.types';
export type { ComponentHealth, ComponentRuntime, InfraComponent, InfraLog, InfraMode, InfraOwner, InfraState } from './infra.types';
export { startPrivateFerretdb, startPrivateKafka, startPrivateLdap, startPrivateMongoJavaServer, startPrivatePostgres } from './private-servers';
export { MONGO_JAVA_SERVER_VERSION } from './mongo-java-server.provider';
export type { PrivateKafka, PrivateKafkaOptions, PrivateLdap, PrivateFerretdbOptions, PrivateServer, PrivateServerOptions } from './private-servers';
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
export { SCIM_TARGET_SEED, SCIM_TOKEN_ENV, startPrivateScimTarget } from './scim-target.provider';
export type { PrivateScimTarget } from './scim-target.provider';
export { LDAP_ADMIN_DN, LDAP_ENV, LDAP_GROUPS_DN, LDAP_PEOPLE_DN, LDAP_SUFFIX, ensureOpenldap } from './ldap-local.provider';
export type { OpenldapTools } from './ldap-local.provider';
