import { generateKeyPairSync } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createNoteSigner, formatCheckpoint, verifierKey } from '@grantline/transparency';
import { bufferedOutput } from '../output';
import { writeBundle } from './bundle-files';
import { buildSyntheticLog, syntheticBundleInput } from './synthetic-log';
import type { SyntheticLog } from './synthetic-log';
import { proveCommand, verifyCommand } from './verify-commands';

describe('grantline verify / prove', () => {
  let dir: string;
  let bundle: string;
  let log: SyntheticLog;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'grantline-verify-'));
    bundle = join(dir, 'bundle');
    log = buildSyntheticLog({ events: 300, seed: 7, checkpointEvery: 10 });
    await writeBundle(bundle, syntheticBundleInput(log));
    writeFileSync(join(dir, 'trusted.vkey'), `${log.vkey}\n`);
    writeFileSync(join(dir, 'trusted.pem'), log.publicKey.export({ format: 'pem', type: 'spki' }));
    writeFileSync(join(dir, 'other.vkey'), verifierKey(log.keyName, generateKeyPairSync('ed25519').publicKey));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const copy = (name: string): string => {
    const target = join(dir, name);
    cpSync(bundle, target, { recursive: true });
    return target;
  };

  it('given a pinned key (vkey or PEM), then verify exits 0 without the self-key warning', () => {
    for (const key of ['trusted.vkey', 'trusted.pem']) {
      const io = bufferedOutput();
      expect(verifyCommand({ bundle, key: join(dir, key) }, io)).toBe(0);
      expect(io.stderr()).toBe('');
      expect(io.stdout()).toContain(`key      ${log.vkey.split('+').slice(0, 2).join('+')} (pinned)`);
    }
  });

  it('given the key of someone else, then verify exits 1 naming the first checkpoint as unsigned', () => {
    const io = bufferedOutput();
    expect(verifyCommand({ bundle, key: join(dir, 'other.vkey') }, io)).toBe(1);
    expect(io.stdout()).toMatch(
      /TAMPERED {2}first bad position: checkpoints\.jsonl line 1: tree grantline\/\S+, checkpoint of size 10: checkpoint-signature: signed note: no signature by/,
    );
  });

  it('given no bundle, no manifest or an unreadable key, then verify exits 2 saying what is wrong', () => {
    const cases: [{ bundle: string; key?: string }, RegExp][] = [
      [{ bundle: join(dir, 'nowhere') }, /nowhere: not a directory/],
      [{ bundle: dir }, /manifest\.json: not found \(is this an evidence bundle\?\)/],
      [{ bundle, key: join(dir, 'missing.vkey') }, /--key .*missing\.vkey: ENOENT/],
    ];
    for (const [options, message] of cases) {
      const io = bufferedOutput();
      expect(verifyCommand(options, io)).toBe(2);
      expect(io.stderr()).toMatch(message);
    }
  });

  it('when verifier.pem is another key than verifier.vkey, then verify exits 1 and says so', () => {
    const target = copy('other-pem');
    writeFileSync(join(target, 'verifier.pem'), generateKeyPairSync('ed25519').publicKey.export({ format: 'pem', type: 'spki' }));
    const io = bufferedOutput();
    expect(verifyCommand({ bundle: target }, io)).toBe(1);
    expect(io.stdout()).toContain('TAMPERED  verifier.pem: another key than verifier.vkey');
  });

  it('given an event, then prove names its leaf, tree and the first checkpoint that includes it; --checkpoint picks another', () => {
    const io = bufferedOutput();
    expect(proveCommand({ bundle, event: 'req-0000002/evt-4', key: join(dir, 'trusted.vkey') }, io)).toBe(0);
    const sentence =
      /^event req-0000002\/evt-4 \(iga\.grant\.created\.v1, iga\.grants\.v1\/(\d)\/(\d+)\) is leaf (\d+) of tree grantline\/Bench-Cluster_01\/iga\.grants\.v1\/\1, included in the checkpoint of size (\d+) signed by audit\.grantline\.example\/log\n/;
    expect(io.stdout()).toMatch(sentence);
    const [, , , leaf, size] = sentence.exec(io.stdout())!;
    expect(Number(size)).toBe(Math.ceil((Number(leaf) + 1) / 10) * 10);
    const later = bufferedOutput();
    expect(proveCommand({ bundle, event: 'req-0000002/evt-4', checkpoint: String(Number(size) + 10), key: join(dir, 'trusted.vkey') }, later)).toBe(0);
    expect(later.stdout()).toContain(`included in the checkpoint of size ${Number(size) + 10} signed by`);
    const earlier = bufferedOutput();
    expect(proveCommand({ bundle, event: 'req-0000002/evt-4', checkpoint: String(Number(size) - 10 || 1), key: join(dir, 'trusted.vkey') }, earlier)).toBe(1);
    expect(earlier.stderr()).toMatch(/no checkpoint of size \d+ of tree .* includes leaf/);
  });

  it('when the event is unknown, its record was changed, or --checkpoint is no size, then prove refuses', () => {
    const unknown = bufferedOutput();
    expect(proveCommand({ bundle, event: 'evt-none' }, unknown)).toBe(1);
    expect(unknown.stderr()).toContain('no event evt-none in');

    const target = copy('changed');
    const events = join(target, 'events.jsonl');
    const lines = readFileSync(events, 'utf8').split('\n');
    const at = lines.findIndex((line) => line.includes('"req-0000003/evt-1"'));
    const line = JSON.parse(lines[at]!) as { key: string };
    lines[at] = JSON.stringify({ ...line, key: Buffer.from('req-9999999').toString('base64') });
    writeFileSync(events, lines.join('\n'));
    const changed = bufferedOutput();
    expect(proveCommand({ bundle: target, event: 'req-0000003/evt-1' }, changed)).toBe(1);
    expect(changed.stderr()).toMatch(/the record is not leaf \d+ of the signed tree of size \d+: it was changed/);

    const usage = bufferedOutput();
    expect(proveCommand({ bundle, event: 'req-0000002/evt-4', checkpoint: 'latest' }, usage)).toBe(2);
    expect(usage.stderr()).toContain("--checkpoint: 'latest' is not a tree size");
  });

  it('when asked to write a bundle with a checkpoint by another key or records beyond the last checkpoint, then writeBundle refuses', async () => {
    const input = syntheticBundleInput(log);
    const [first, ...rest] = input.trees;
    const stranger = createNoteSigner(log.keyName, generateKeyPairSync('ed25519').privateKey);
    const foreign = { ...first!, checkpoints: [stranger.sign(formatCheckpoint({ origin: first!.origin, size: 1, rootHash: Buffer.alloc(32) }))] };
    await expect(writeBundle(join(dir, 'refused-1'), { ...input, trees: [foreign, ...rest] })).rejects.toThrow(/no signature by/);
    const short = { ...first!, checkpoints: first!.checkpoints.slice(0, 1) };
    await expect(writeBundle(join(dir, 'refused-2'), { ...input, trees: [short] })).rejects.toThrow(/leaf 10 is not covered by a checkpoint/);
  });
});
