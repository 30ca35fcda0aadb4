// OpenLDAP for the LDAP groups connector: Debian's slapd and ldap-utils, unpacked into the project's cache without
// installing anything (`apt-get download` + `dpkg-deb -x`, like promtool.ts), together with the shared libraries
// they link that the machine may lack. A directory is a slapd.conf (mdb backend) and a data dir, seeded offline with
// `slapadd` before the server first starts: suffix dc=grantline,dc=test, ou=groups and ou=people, an admin bind DN.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'ldapts';
import { LOOPBACK, infraPaths, infraPorts } from './infra.config';
import type { InfraPaths } from './infra.config';
import type { ComponentRuntime, InfraLog } from './infra.types';
import { reclaimPort, runChecked, runCommand, spawnDetached, waitUntil } from './process.util';

export const LDAP_SUFFIX = 'dc=grantline,dc=test';
export const LDAP_ADMIN_DN = `cn=admin,${LDAP_SUFFIX}`;
export const LDAP_GROUPS_DN = `ou=groups,${LDAP_SUFFIX}`;
export const LDAP_PEOPLE_DN = `ou=people,${LDAP_SUFFIX}`;

/** What services and specs read, like PG_URL: the URL, the bind DN and password, and the two branches. */
export const LDAP_ENV = {
  url: 'LDAP_URL',
  bindDn: 'LDAP_BIND_DN',
  bindPassword: 'LDAP_BIND_PASSWORD',
  groupsBaseDn: 'LDAP_GROUPS_BASE_DN',
  peopleBaseDn: 'LDAP_PEOPLE_BASE_DN',
} as const;

/** The unpacked packages: binaries, their library path, the schema and module directories. */
export interface OpenldapTools {
  readonly root: string;
  readonly slapd: string;
  readonly slapadd: string;
  readonly ldapsearch: string;
  readonly ldapmodify: string;
  readonly schemaDir: string;
  readonly moduleDir: string;
  /** The process environment with LD_LIBRARY_PATH pointing at the unpacked libraries first. */
  readonly env: NodeJS.ProcessEnv;
}

const PACKAGES = ['slapd', 'ldap-utils'] as const;
// Never unpack the C library or the crypt library over a private path; Perl and ODBC back ends are modules slapd
// never loads here (mdb only), and they are big.
const NOT_UNPACKED = /^(libc6|libcrypt1|libperl.*|libodbc.*|libgcc-s1|libstdc\+\+6)$/;

function openldapRoot(paths: InfraPaths): string {
  return join(paths.cache, 'openldap');
}

function libraryDirs(root: string): string[] {
  const dirs: string[] = [];
  for (const base of [join(root, 'usr', 'lib'), join(root, 'lib')]) {
    if (!existsSync(base)) continue;
    for (const entry of readdirSync(base)) if (entry.endsWith('-linux-gnu')) dirs.push(join(base, entry));
  }
  return dirs;
}

function toolsAt(root: string): OpenldapTools {
  const libraryPath = [...libraryDirs(root), process.env['LD_LIBRARY_PATH'] ?? ''].filter(Boolean).join(':');
  return {
    root,
    slapd: join(root, 'usr', 'sbin', 'slapd'),
    slapadd: join(root, 'usr', 'sbin', 'slapadd'),
    ldapsearch: join(root, 'usr', 'bin', 'ldapsearch'),
    ldapmodify: join(root, 'usr', 'bin', 'ldapmodify'),
    schemaDir: join(root, 'etc', 'ldap', 'schema'),
    moduleDir: join(root, 'usr', 'lib', 'ldap'),
    env: { ...process.env, LD_LIBRARY_PATH: libraryPath },
  };
}

/** The `lib*` packages a .deb depends on (first alternative of each), minus the ones never unpacked. */
export function libraryDependencies(depends: string): string[] {
  return depends
    .split(',')
    .map(
      (clause) =>
        clause
          .split('|')[0]
          ?.trim()
          .split(/[\s(:]/)[0] ?? '',
    )
    .filter((name) => name.startsWith('lib') && !NOT_UNPACKED.test(name));
}

async function aptDownload(names: readonly string[], cwd: string): Promise<void> {
  let download = await runCommand('apt-get', ['download', '-q', ...names], { cwd, timeoutMs: 5 * 60_000 });
  if (download.code !== 0 && process.getuid?.() === 0) {
    // A fresh machine has no package lists yet; queue behind other apt runs of the harness.
    await runCommand('flock', ['/tmp/grantline-apt.lock', 'apt-get', 'update', '-q'], { timeoutMs: 10 * 60_000 });
    download = await runCommand('apt-get', ['download', '-q', ...names], { cwd, timeoutMs: 5 * 60_000 });
  }
  if (download.code !== 0) {
    const why = (download.stderr || download.stdout).trim().slice(0, 500);
    throw new Error(`missing prerequisite: OpenLDAP (Debian's ${names.join(', ')}) for the LDAP connector's target; apt-get download failed: ${why}`);
  }
}

/**
 * slapd and ldap-utils unpacked into `.cache/openldap` (first run only), with the shared libraries they depend on,
 * checked with `ldd`: a library that is neither on the machine nor unpacked is a clear error, not a crash later.
 */
export async function ensureOpenldap(paths: InfraPaths = infraPaths(), log: InfraLog = () => undefined): Promise<OpenldapTools> {
  const root = openldapRoot(paths);
  if (existsSync(join(root, '.complete'))) return toolsAt(root);
  mkdirSync(paths.cache, { recursive: true });
  const work = mkdtempSync(join(paths.cache, 'openldap-download-'));
  try {
    const started = Date.now();
    log("ldap: fetching Debian's slapd and ldap-utils (first run only)...");
    await aptDownload(PACKAGES, work);
    const debs = (): string[] => readdirSync(work).filter((name) => name.endsWith('.deb'));
    const depends = await Promise.all(debs().map(async (deb) => (await runChecked('dpkg-deb -f', 'dpkg-deb', ['-f', join(work, deb), 'Depends'])).stdout));
    const libraries = [...new Set(depends.flatMap(libraryDependencies))];
    if (libraries.length > 0) await aptDownload(libraries, work);
    const staging = join(work, 'unpacked');
    for (const deb of debs()) await runChecked(`dpkg-deb -x ${deb}`, 'dpkg-deb', ['-x', join(work, deb), staging], { timeoutMs: 2 * 60_000 });
    const tools = toolsAt(staging);
    for (const binary of [tools.slapd, tools.ldapsearch]) {
      const ldd = await runCommand('ldd', [binary], { env: tools.env, timeoutMs: 30_000 });
      const missing = ldd.stdout
        .split('\n')
        .filter((line) => line.includes('not found'))
        .map((line) => line.trim().split(' ')[0]);
      if (missing.length > 0) throw new Error(`ldap: ${binary} needs ${missing.join(', ')}, found neither on this machine nor in the unpacked packages`);
    }
    writeFileSync(join(staging, '.complete'), `${new Date().toISOString()}\n`);
    rmSync(root, { recursive: true, force: true });
    try {
      renameSync(staging, root);
    } catch (error) {
      // another process unpacked the same packages a moment earlier: theirs is as good
      if (!existsSync(join(root, '.complete'))) throw error;
    }
    log(`ldap: OpenLDAP unpacked into ${root} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return toolsAt(root);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** `{SSHA}` of a password (RFC 2307 style, as slappasswd writes it): slapd.conf never holds the password itself. */
export function sshaPassword(password: string, salt: Buffer = randomBytes(8)): string {
  const digest = createHash('sha1').update(password).update(salt).digest();
  return `{SSHA}${Buffer.concat([digest, salt]).toString('base64')}`;
}

/** One directory's slapd.conf: the schemas groupOfNames and inetOrgPerson need, one mdb database, admin as rootdn. */
export function slapdConfig(options: { tools: OpenldapTools; home: string; adminPasswordHash: string }): string {
  const { tools, home } = options;
  return [
    `include ${join(tools.schemaDir, 'core.schema')}`,
    `include ${join(tools.schemaDir, 'cosine.schema')}`,
    `include ${join(tools.schemaDir, 'inetorgperson.schema')}`,
    `pidfile ${join(home, 'slapd.pid')}`,
    `argsfile ${join(home, 'slapd.args')}`,
    `modulepath ${tools.moduleDir}`,
    'moduleload back_mdb',
    // the rootdn is not subject to limits; these are for any other bind (a connector with its own account)
    'sizelimit 1000',
    'database mdb',
    'maxsize 268435456',
    `suffix "${LDAP_SUFFIX}"`,
    `rootdn "${LDAP_ADMIN_DN}"`,
    `rootpw ${options.adminPasswordHash}`,
    `directory ${join(home, 'data')}`,
    'index objectClass eq',
    'index cn,uid eq,sub',
    'index member eq',
    '',
  ].join('\n');
}

const SEED_LDIF = [
  `dn: ${LDAP_SUFFIX}`,
  'objectClass: dcObject',
  'objectClass: organization',
  'dc: grantline',
  'o: Grantline',
  '',
  `dn: ${LDAP_GROUPS_DN}`,
  'objectClass: organizationalUnit',
  'ou: groups',
  '',
  `dn: ${LDAP_PEOPLE_DN}`,
  'objectClass: organizationalUnit',
  'ou: people',
  '',
].join('\n');

/**
 * A new directory under `home` (which must not exist): slapd.conf, the data dir, seeded with `slapadd` while no
 * server runs. Built beside `home` and renamed into place, so a half-made directory is never mistaken for one.
 */
export async function createLdapDirectory(tools: OpenldapTools, home: string, adminPassword: string): Promise<void> {
  const building = `${home}.building-${process.pid}`;
  rmSync(building, { recursive: true, force: true });
  mkdirSync(join(building, 'data'), { recursive: true, mode: 0o700 });
  try {
    // paths inside the config name the final location; slapadd is pointed at the building copy's data dir below
    writeFileSync(join(building, 'slapd.conf'), slapdConfig({ tools, home, adminPasswordHash: sshaPassword(adminPassword) }), { mode: 0o600 });
    const buildConf = join(building, 'slapd.build.conf');
    writeFileSync(buildConf, slapdConfig({ tools, home: building, adminPasswordHash: sshaPassword(adminPassword) }), { mode: 0o600 });
    const seed = join(building, 'seed.ldif');
    writeFileSync(seed, SEED_LDIF);
    await runChecked('slapadd (seeding the directory)', tools.slapadd, ['-f', buildConf, '-l', seed], { env: tools.env, timeoutMs: 60_000 });
    rmSync(buildConf);
    rmSync(seed);
    // no newline: `ldapsearch -y` sends the whole file as the password
    writeFileSync(join(building, 'admin.password'), adminPassword, { mode: 0o600 });
    renameSync(building, home);
  } catch (error) {
    rmSync(building, { recursive: true, force: true });
    throw error;
  }
}

/** How every slapd of the harness runs: in the foreground (`-d 0`: its pid is the server's), loopback only. */
export function slapdArgs(home: string, port: number): string[] {
  return ['-d', '0', '-f', join(home, 'slapd.conf'), '-h', `ldap://${LOOPBACK}:${port}/`];
}

export function ldapUrl(port: number): string {
  return `ldap://${LOOPBACK}:${port}`;
}

/**
 * A real simple bind (anonymous without a DN), then a base search of `base`: the harness's own directory is asked
 * for its suffix (seeded and served), a directory given through env only for its root DSE.
 */
export async function ldapBindOk(url: string, bind: { dn?: string; password?: string; base?: string }, timeoutMs = 5_000): Promise<boolean> {
  const client = new Client({ url, timeout: timeoutMs, connectTimeout: timeoutMs });
  try {
    if (bind.dn !== undefined && bind.password !== undefined) await client.bind(bind.dn, bind.password);
    await client.search(bind.base ?? '', { scope: 'base', attributes: ['1.1'] });
    return true;
  } catch (error) {
    // ldapts says little more than the code (" Code: 0x31"): name it as LDAP does (RFC 4511), 49 = invalidCredentials
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'number') throw new Error(`the directory answered LDAP result code ${code}${code === 49 ? ' (invalidCredentials)' : ''}`);
    throw error;
  } finally {
    await client.unbind().catch(() => undefined);
  }
}

export function ldapHome(paths: InfraPaths): string {
  return join(paths.data, 'ldap');
}

export function readLdapAdminPassword(file: string): string {
  return readFileSync(file, 'utf8').trim();
}

/** The shared directory of `npm run infra:up` / jest's global setup, on GRANTLINE_LDAP_PORT (13389). */
export async function startLocalLdap(paths: InfraPaths, log: InfraLog): Promise<ComponentRuntime> {
  const tools = await ensureOpenldap(paths, log);
  const port = infraPorts().ldap;
  const home = ldapHome(paths);
  const passwordFile = join(home, 'admin.password');
  await reclaimPort('ldap', LOOPBACK, port, {
    ownedPaths: [home],
    hint: 'stop it, set GRANTLINE_LDAP_PORT, or use it via LDAP_URL (with LDAP_BIND_DN / LDAP_BIND_PASSWORD)',
    log,
  });
  if (!existsSync(passwordFile) || !existsSync(join(home, 'data', 'data.mdb'))) {
    // a directory without its password (or half made) cannot be used by anyone: it is disposable test data
    rmSync(home, { recursive: true, force: true });
    await createLdapDirectory(tools, home, randomBytes(18).toString('hex'));
    log(`ldap: new directory ${LDAP_SUFFIX} in ${home}`);
  }
  const password = readLdapAdminPassword(passwordFile);
  const logFile = join(paths.logs, 'slapd.log');
  const { pid } = spawnDetached(tools.slapd, slapdArgs(home, port), logFile, { cwd: home, env: tools.env });
  const url = ldapUrl(port);
  await waitUntil(`slapd at ${LOOPBACK}:${port}`, () => ldapBindOk(url, { dn: LDAP_ADMIN_DN, password, base: LDAP_SUFFIX }, 2_000), {
    timeoutMs: 60_000,
    pid,
    logFile,
  });
  return {
    component: 'ldap',
    mode: 'local',
    version: `OpenLDAP slapd ${await slapdVersion(tools)}`,
    address: `${LOOPBACK}:${port}`,
    url,
    pid,
    marker: join(home, 'slapd.conf'),
    logFile,
    credentialsFile: passwordFile,
    startedAt: new Date().toISOString(),
  };
}

async function slapdVersion(tools: OpenldapTools): Promise<string> {
  // `slapd -VV` prints "@(#) $OpenLDAP: slapd 2.5.13+dfsg-5 (...)" and exits
  const result = await runCommand(tools.slapd, ['-VV'], { env: tools.env, timeoutMs: 10_000 });
  return /slapd ([0-9][^\s]*)/.exec(`${result.stdout}\n${result.stderr}`)?.[1] ?? 'unknown';
}
