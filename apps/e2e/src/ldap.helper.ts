import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Attribute, Change, Client } from 'ldapts';

/** The unpacked OpenLDAP tools (the harness's `ensureOpenldap()`, called by the spec: this fixture may not depend on the testing lib). */
export interface LdapTools {
  readonly ldapsearch: string;
  readonly ldapmodify: string;
  readonly env: NodeJS.ProcessEnv;
}

const ENTRY_ALREADY_EXISTS = 68;
/** What an emptied group keeps as its one member (groupOfNames needs one): the connector's default placeholder. */
const placeholderOf = (peopleBaseDn: string): string => `cn=grantline-placeholder,${peopleBaseDn}`;

function requiredEnv(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`${name} is not set: e2e specs need jest's global setup (it starts slapd)`);
  return value;
}

/**
 * The directory as an administrator looks at it: entries made with the admin bind, memberships read back with
 * `ldapsearch` (the unpacked OpenLDAP tool), never through Grantline or the connector.
 */
export class LdapTarget {
  private readonly createdPeople: string[] = [];
  private readonly groups = new Set<string>();

  private constructor(
    private readonly admin: Client,
    private readonly tools: LdapTools,
    private readonly settings: { url: string; bindDn: string; passwordFile: string; groupsBaseDn: string; peopleBaseDn: string },
    private readonly scratch: string,
  ) {}

  static async connect(tools: LdapTools): Promise<LdapTarget> {
    const url = requiredEnv('LDAP_URL');
    const bindDn = requiredEnv('LDAP_BIND_DN');
    const password = requiredEnv('LDAP_BIND_PASSWORD');
    const admin = new Client({ url, timeout: 10_000 });
    await admin.bind(bindDn, password);
    // ldapsearch reads the password from a file (-y), never from its arguments, which every local user can see
    const scratch = mkdtempSync(join(tmpdir(), 'grantline-e2e-ldap-'));
    const passwordFile = join(scratch, 'bind.password');
    writeFileSync(passwordFile, password, { mode: 0o600 });
    const settings = { url, bindDn, passwordFile, groupsBaseDn: requiredEnv('LDAP_GROUPS_BASE_DN'), peopleBaseDn: requiredEnv('LDAP_PEOPLE_BASE_DN') };
    return new LdapTarget(admin, tools, settings, scratch);
  }

  groupDn(cn: string): string {
    return `cn=${cn},${this.settings.groupsBaseDn}`;
  }

  personDn(uid: string): string {
    return `uid=${uid},${this.settings.peopleBaseDn}`;
  }

  /** The catalogue's groups (externalRef = cn): shared by every run and created once, holding the placeholder. */
  async ensureGroups(cns: readonly string[]): Promise<void> {
    for (const cn of cns) {
      this.groups.add(cn);
      try {
        await this.admin.add(this.groupDn(cn), { objectClass: ['groupOfNames'], cn, member: [placeholderOf(this.settings.peopleBaseDn)] });
      } catch (error) {
        if ((error as { code?: unknown }).code !== ENTRY_ALREADY_EXISTS) throw error;
      }
    }
  }

  /** A person's entry (the connector adds existing accounts to groups; it never creates people). */
  async createPerson(uid: string): Promise<void> {
    await this.admin.add(this.personDn(uid), { objectClass: ['inetOrgPerson'], uid, cn: uid, sn: uid });
    this.createdPeople.push(this.personDn(uid));
  }

  /** The group's `member` values, as `ldapsearch` prints them. */
  async membersOf(cn: string): Promise<string[]> {
    const { stdout } = await promisify(execFile)(
      this.tools.ldapsearch,
      [
        '-x',
        '-LLL',
        '-o',
        'ldif-wrap=no',
        '-H',
        this.settings.url,
        '-D',
        this.settings.bindDn,
        '-y',
        this.settings.passwordFile,
        '-s',
        'base',
        '-b',
        this.groupDn(cn),
        'member',
      ],
      { env: this.tools.env, timeout: 30_000 },
    );
    return stdout
      .split('\n')
      .filter((line) => line.startsWith('member: '))
      .map((line) => line.slice('member: '.length).trim());
  }

  /** What an administrator does by hand, outside Grantline, with `ldapmodify`: reconciliation must notice it. */
  async addMemberByHand(uid: string, cn: string): Promise<void> {
    const run = promisify(execFile)(this.tools.ldapmodify, ['-x', '-H', this.settings.url, '-D', this.settings.bindDn, '-y', this.settings.passwordFile], {
      env: this.tools.env,
      timeout: 30_000,
    });
    run.child.stdin?.end(`dn: ${this.groupDn(cn)}\nchangetype: modify\nadd: member\nmember: ${this.personDn(uid)}\n`);
    await run;
  }

  async isMember(uid: string, cn: string): Promise<boolean> {
    return (await this.membersOf(cn)).includes(this.personDn(uid));
  }

  /** Removes the people this helper created and what a failed run left of their memberships, then disconnects. */
  async close(): Promise<void> {
    for (const dn of this.createdPeople) {
      const leftOver = new Change({ operation: 'delete', modification: new Attribute({ type: 'member', values: [dn] }) });
      for (const cn of this.groups) await this.admin.modify(this.groupDn(cn), leftOver).catch(() => undefined);
      await this.admin.del(dn).catch(() => undefined);
    }
    await this.admin.unbind().catch(() => undefined);
    rmSync(this.scratch, { recursive: true, force: true });
  }
}
