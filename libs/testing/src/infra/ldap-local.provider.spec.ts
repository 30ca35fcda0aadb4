import { createHash } from 'node:crypto';
import { libraryDependencies, slapdArgs, slapdConfig, sshaPassword } from './ldap-local.provider';
import type { OpenldapTools } from './ldap-local.provider';

describe('OpenLDAP for the harness', () => {
  it("unpacks the lib* packages a .deb depends on, never the C library, crypt, Perl's or ODBC's", () => {
    const depends =
      'libargon2-1 (>= 0~20171227), libc6 (>= 2.34), libcrypt1 (>= 1:4.1.0), libldap-2.5-0 (= 2.5.13+dfsg-5), libltdl7 (>= 2.4.7), ' +
      'libodbc2 (>= 2.3.1), libperl5.36 (>= 5.36.0), libsasl2-2 (>= 2.1.28+dfsg), libwrap0 (>= 7.6-4~), coreutils (>= 4.5.1-1), psmisc, ' +
      'perl:any (>> 5.8.0) | libmime-base64-perl, adduser';
    expect(libraryDependencies(depends)).toEqual(['libargon2-1', 'libldap-2.5-0', 'libltdl7', 'libsasl2-2', 'libwrap0']);
  });

  it('keeps only a salted SHA-1 of the admin password in slapd.conf', () => {
    const salt = Buffer.from('0123456789abcdef', 'hex');
    const hashed = sshaPassword('s3cret', salt);
    const raw = Buffer.from(hashed.replace('{SSHA}', ''), 'base64');
    expect(raw.subarray(20)).toEqual(salt);
    expect(raw.subarray(0, 20)).toEqual(createHash('sha1').update('s3cret').update(salt).digest());

    const tools = { schemaDir: '/c/etc/ldap/schema', moduleDir: '/c/usr/lib/ldap' } as OpenldapTools;
    const config = slapdConfig({ tools, home: '/d/ldap', adminPasswordHash: hashed });
    expect(config).not.toContain('s3cret');
    expect(config).toContain(`rootpw ${hashed}`);
    expect(config).toContain('suffix "dc=grantline,dc=test"');
    expect(config).toContain('moduleload back_mdb');
    expect(config).toContain('directory /d/ldap/data');
  });

  it('runs slapd in the foreground on loopback only', () => {
    expect(slapdArgs('/d/ldap', 13389)).toEqual(['-d', '0', '-f', '/d/ldap/slapd.conf', '-h', 'ldap://127.0.0.1:13389/']);
  });
});
