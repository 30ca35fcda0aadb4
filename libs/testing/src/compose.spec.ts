import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import { DOCKER_IMAGES, infraPaths } from './infra/infra.config';

// docker-compose.yml cannot be run here (no Docker engine), so its structure is checked instead.
const APPS = ['intake', 'policy', 'approval', 'provisioning', 'scheduler', 'audit'] as const;

const healthyDependency = z.object({ condition: z.literal('service_healthy') }).strict();
const portMapping = z.string().regex(/^127\.0\.0\.1:\d{1,5}:\d{1,5}$/, 'published ports must be bound to 127.0.0.1');

const serviceSchema = z
  .object({
    image: z.string().min(1).optional(),
    build: z
      .object({ context: z.string(), dockerfile: z.string(), args: z.record(z.string(), z.string()).optional() })
      .strict()
      .optional(),
    environment: z.record(z.string(), z.string()).optional(),
    ports: z.array(portMapping).optional(),
    volumes: z.array(z.string()).optional(),
    depends_on: z.record(z.string(), healthyDependency).optional(),
    healthcheck: z
      .object({
        test: z.array(z.string()).min(2),
        interval: z.string(),
        timeout: z.string(),
        start_period: z.string().optional(),
        retries: z.number().int().positive(),
      })
      .strict(),
    restart: z.string().optional(),
  })
  .strict()
  .refine((service) => service.image !== undefined || service.build !== undefined, 'needs an image or a build');

const appSchema = z.object({
  build: z.object({ context: z.literal('.'), dockerfile: z.literal('deploy/Dockerfile'), args: z.object({ APP: z.string() }) }),
  environment: z.object({
    KAFKA_BROKERS: z.literal('kafka:9092'),
    MONGO_URL: z.string().regex(/^mongodb:\/\/mongo:27017\//),
    PORT: z.string().regex(/^\d+$/),
  }),
  depends_on: z.object({ kafka: healthyDependency, mongo: healthyDependency }),
});

const composeSchema = z
  .object({
    name: z.string(),
    services: z.record(z.string(), serviceSchema),
    volumes: z.record(z.string(), z.null()).optional(),
  })
  .strict();

function loadCompose(): unknown {
  return parse(readFileSync(join(infraPaths().root, 'docker-compose.yml'), 'utf8'));
}

describe('docker-compose.yml', () => {
  const compose = composeSchema.parse(loadCompose());

  it('has the infrastructure on the images the harness uses', () => {
    expect(compose.services['kafka']?.image).toBe(DOCKER_IMAGES.kafka);
    expect(compose.services['mongo']?.image).toBe(DOCKER_IMAGES.mongo);
    expect(compose.services['postgres']?.image).toBe(DOCKER_IMAGES.postgres);
  });

  it.each(APPS)('builds %s from the shared Dockerfile and waits for healthy kafka and mongo', (app) => {
    const service = appSchema.parse(compose.services[app]);
    expect(service.build.args.APP).toBe(app);
  });

  it('gives every service its own host port', () => {
    const hostPorts = Object.values(compose.services).flatMap((service) => (service.ports ?? []).map((port) => port.split(':')[1]));
    expect(new Set(hostPorts).size).toBe(hostPorts.length);
    const appPorts = APPS.map((app) => compose.services[app]?.environment?.['PORT']);
    expect(new Set(appPorts).size).toBe(APPS.length);
  });

  it('uses only declared named volumes', () => {
    const declared = new Set(Object.keys(compose.volumes ?? {}));
    for (const service of Object.values(compose.services)) {
      for (const volume of service.volumes ?? []) expect(declared).toContain(volume.split(':')[0]);
    }
  });

  it('rejects a port published on every interface (the schema can fail)', () => {
    const bad = structuredClone(loadCompose()) as { services: Record<string, { ports?: string[] }> };
    bad.services['mongo']!.ports = ['27017:27017'];
    expect(composeSchema.safeParse(bad).success).toBe(false);
  });

  it('rejects a service that depends on kafka without waiting for its health', () => {
    const bad = structuredClone(loadCompose()) as { services: Record<string, { depends_on?: unknown }> };
    bad.services['intake']!.depends_on = { kafka: { condition: 'service_started' }, mongo: { condition: 'service_healthy' } };
    expect(() => appSchema.parse(composeSchema.parse(bad).services['intake'])).toThrow();
  });
});
