import { z } from 'zod';

// Why these names: they are the env variables services and specs read; keeping the component
// keys aligned with them avoids a mapping table.
export type InfraComponent = 'kafka' | 'mongo' | 'postgres' | 'ldap' | 'scim';
export const infraComponents: readonly InfraComponent[] = ['kafka', 'mongo', 'postgres', 'ldap', 'scim'];

/** Where a component comes from, in the order the manager tries them. */
export type InfraMode = 'env' | 'docker' | 'local';

/** Who brought the infrastructure up: a `cli` start is left running by jest's teardown. */
export type InfraOwner = 'cli' | 'jest';

export const componentRuntimeSchema = z.object({
  component: z.enum(['kafka', 'mongo', 'postgres', 'ldap', 'scim']),
  mode: z.enum(['env', 'docker', 'local']),
  version: z.string(),
  address: z.string(),
  url: z.string(),
  pid: z.number().int().positive().optional(),
  // substring of /proc/<pid>/cmdline: a recycled pid must never be mistaken for our process
  marker: z.string().optional(),
  containerId: z.string().optional(),
  logFile: z.string().optional(),
  startedAt: z.string(),
  /** Kafka only: `sasl` when the broker authenticates and enforces ACLs (ADR 0017); absent: plaintext. */
  security: z.enum(['plaintext', 'sasl']).optional(),
  /** Kafka with SASL, LDAP, the SCIM target (its bearer token): the local dev file of its credentials (a path; the secrets stay in the file). */
  credentialsFile: z.string().optional(),
});
export type ComponentRuntime = z.infer<typeof componentRuntimeSchema>;

export const infraStateSchema = z.object({
  owner: z.enum(['cli', 'jest']),
  updatedAt: z.string(),
  components: z.object({
    kafka: componentRuntimeSchema.optional(),
    mongo: componentRuntimeSchema.optional(),
    postgres: componentRuntimeSchema.optional(),
    ldap: componentRuntimeSchema.optional(),
    scim: componentRuntimeSchema.optional(),
  }),
});
export type InfraState = z.infer<typeof infraStateSchema>;

export interface ComponentHealth {
  component: InfraComponent;
  healthy: boolean;
  detail: string;
}

export type InfraLog = (line: string) => void;

/** Env variable that carries each component's endpoint to services and specs. */
export const endpointEnv: Record<InfraComponent, 'KAFKA_BROKERS' | 'MONGO_URL' | 'PG_URL' | 'LDAP_URL' | 'SCIM_URL'> = {
  kafka: 'KAFKA_BROKERS',
  mongo: 'MONGO_URL',
  postgres: 'PG_URL',
  ldap: 'LDAP_URL',
  scim: 'SCIM_URL',
};
