import { existsSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { InfraPaths } from './infra.config';
import type { InfraLog } from './infra.types';
import { requireMaven } from './prerequisites';
import { runChecked } from './process.util';

/** mongo-java-server, a MongoDB wire-protocol server in Java: a local store candidate (issue 12 item 4), not the default. */
export const MONGO_JAVA_SERVER_VERSION = '1.47.0';

export function mongoJavaServerLibsDir(paths: InfraPaths): string {
  return join(paths.cache, 'mongo-java-server', MONGO_JAVA_SERVER_VERSION, 'libs');
}

/** The single-file Java launcher (the library has no main); run with `java -cp <libs>/* <this file> HOST PORT`. */
export function mongoJavaServerLauncher(paths: InfraPaths): string {
  return join(paths.root, 'tools/mongo-java-server/MongoWireServer.java');
}

/** Resolves the jars from Maven Central once per version into .cache/mongo-java-server/<version>/libs. */
export async function ensureMongoJavaServerLibs(paths: InfraPaths, log: InfraLog): Promise<string> {
  const libs = mongoJavaServerLibsDir(paths);
  if (existsSync(join(libs, `mongo-java-server-core-${MONGO_JAVA_SERVER_VERSION}.jar`))) return libs;
  await requireMaven();
  const staging = `${libs}.partial`;
  rmSync(staging, { recursive: true, force: true });
  log(`mongo-java-server: fetching ${MONGO_JAVA_SERVER_VERSION} jars with mvn (first run only)...`);
  await runChecked(
    'fetching the mongo-java-server jars',
    'mvn',
    [
      '-q',
      '-B',
      '-f',
      join(paths.root, 'tools/mongo-java-server/pom.xml'),
      `-Dmongo-java-server.version=${MONGO_JAVA_SERVER_VERSION}`,
      'dependency:copy-dependencies',
      `-DoutputDirectory=${staging}`,
    ],
    { timeoutMs: 15 * 60_000 },
  );
  rmSync(libs, { recursive: true, force: true });
  renameSync(staging, libs);
  return libs;
}
