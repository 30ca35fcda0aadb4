import { ApprovalSelfApprovalBlocked, IdentityOffboarded, IdentityUpserted, registry } from '@grantline/contracts';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Envelope, EventDefinition } from '@grantline/contracts';
import { BUNDLE_FORMAT, bundleEventLine } from '@grantline/transparency';
import type { EvidencePack } from '@grantline/evidence';
import { InMemoryMessageBus, silentLogger } from '@grantline/messaging';
import { bufferedOutput } from '../output';
import type { Progress } from '../progress';
import { evidenceCommand, evidenceFromBundle } from './evidence-command';
import type { EvidenceEnvironment } from './evidence-command';

let sequence = 0;
function encode<TData>(def: EventDefinition<string, TData>, data: TData, time: string): Envelope {
  sequence += 1;
  return registry.encode(def, data, { id: `cli-${sequence}`, source: 'spec', time, subject: 'x', correlationid: 'x', actor: { kind: 'service', id: 'spec' } });
}

/** alice owns a pipeline and leaves without handing it over; bob's self-approval attempt was refused. */
function busWithLog(): InMemoryMessageBus {
  sequence = 0;
  const bus = new InMemoryMessageBus({ registry, logger: silentLogger });
  bus.append(
    encode(
      IdentityUpserted,
      { identity: { kind: 'human', identityId: 'alice', displayName: 'Alice', status: 'active', attributes: {} } },
      '2026-02-01T08:00:00Z',
    ),
    encode(
      IdentityUpserted,
      { identity: { kind: 'ci_pipeline', identityId: 'nightly', displayName: 'Nightly', status: 'active', ownerId: 'alice', attributes: {} } },
      '2026-02-01T08:00:00Z',
    ),
    encode(
      ApprovalSelfApprovalBlocked,
      { taskId: 'req-1:manager', requestId: 'req-1', attemptedById: 'bob', relation: 'requester', attemptedAt: '2026-03-01T09:00:00Z' },
      '2026-03-01T09:00:00Z',
    ),
    encode(
      IdentityOffboarded,
      { identityId: 'alice', kind: 'human', effectiveAt: '2026-03-01T10:00:00Z', reason: 'leaver', ownedIdentityIds: ['nightly'] },
      '2026-03-01T10:00:00Z',
    ),
  );
  return bus;
}

function environment(): EvidenceEnvironment & { readonly files: Map<string, string> } {
  const files = new Map<string, string>();
  return { now: () => new Date('2026-03-02T00:00:00Z'), writeFile: (path, text) => void files.set(path, text), source: 'in-memory spec log', files };
}

const period = { from: '2026-03-01T00:00:00Z', to: '2026-03-02T00:00:00Z' };

describe('grantline evidence', () => {
  it('Given a log, When the pack of a period is asked as JSON, Then it is printed, facts before the period count, and the progress reaches the total', async () => {
    const io = bufferedOutput();
    const updates: [number, number][] = [];
    const progress: Progress = { update: (done, total) => void updates.push([done, total]), stop: () => undefined };

    const code = await evidenceCommand(busWithLog(), period, io, environment(), progress);

    expect(code).toBe(0);
    const pack = JSON.parse(io.stdout()) as EvidencePack;
    expect(pack.log).toMatchObject({ source: 'in-memory spec log', events: 4 });
    // The pipeline's ownership was recorded a month before the period: it is still what makes it orphaned.
    expect(pack.controls.find((control) => control.id === 'NHI1')).toMatchObject({ status: 'finding', count: 1 });
    expect(pack.controls.find((control) => control.id === 'AC-5')).toMatchObject({ status: 'satisfied', count: 1 });
    expect(updates.at(-1)).toEqual([4, 4]);
    expect(io.stderr()).toContain('4 events read; 2 controls satisfied, 2 with findings, 7 not observable');
  });

  it('Given --format md --out, Then the Markdown goes to the file, not to stdout', async () => {
    const io = bufferedOutput();
    const env = environment();

    const code = await evidenceCommand(busWithLog(), { ...period, format: 'md', out: 'evidence.md' }, io, env);

    expect(code).toBe(0);
    expect(io.stdout()).toBe('');
    expect(env.files.get('evidence.md')).toContain('## NHI1 Improper Offboarding (OWASP Non-Human Identities Top 10 (2025))');
    expect(io.stderr()).toContain('written to evidence.md');
  });

  it.each([
    [{ from: period.from }, '--to: '],
    [{ from: period.to, to: period.from }, '--to: must be after from'],
    [{ ...period, format: 'pdf' }, '--format: '],
    [{ ...period, removalTolerance: '15 minutes' }, '--removal-tolerance: expected an ISO-8601 duration'],
  ])('Given %j, Then it exits 2 naming the flag and reads nothing', async (options, message) => {
    const io = bufferedOutput();
    const bus = busWithLog();
    const replay = jest.spyOn(bus, 'replayBatches');

    const code = await evidenceCommand(bus, options, io, environment());

    expect(code).toBe(2);
    expect(io.stderr()).toContain(message);
    expect(replay).not.toHaveBeenCalled();
  });

  describe('--bundle', () => {
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'grantline-evidence-'));
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    /** A bundle as `grantline export` writes it: the records of the log's partitions with their events (proofs not checked here). */
    const writeBundleOf = async (firstIndex: number): Promise<void> => {
      const bus = busWithLog();
      const lines: string[] = [];
      const trees = new Map<string, { topic: string; partition: number; count: number }>();
      await bus.replayRaw({
        topics: ['iga.identities.v1', 'iga.approvals.v1'],
        batchHandler: async (records) => {
          for (const record of records) {
            lines.push(
              bundleEventLine({ tree: `tree/${record.topic}/${record.partition}`, index: Number(record.offset), record, proof: { size: 1, hashes: [] } }),
            );
            const tree = trees.get(`${record.topic}/${record.partition}`) ?? { topic: record.topic, partition: record.partition, count: 0 };
            trees.set(`${record.topic}/${record.partition}`, { ...tree, count: tree.count + 1 });
          }
        },
      });
      writeFileSync(join(dir, 'events.jsonl'), `${lines.join('\n')}\nnot json\n`);
      const manifest = {
        format: BUNDLE_FORMAT,
        createdAt: '2026-03-02T00:00:00Z',
        period: { from: null, to: '2026-03-02T00:00:00Z' },
        clusterId: 'spec-cluster',
        namespace: null,
        verifierKeyName: 'grantline-audit',
        trees: [...trees.values()].map((tree) => ({
          origin: `tree/${tree.topic}/${tree.partition}`,
          topic: tree.topic,
          partition: tree.partition,
          firstIndex,
          lastIndex: firstIndex + tree.count - 1,
          lines: tree.count,
          checkpoints: 1,
          lastCheckpointSize: firstIndex + tree.count,
        })),
        files: [],
      };
      writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
    };

    it('Given a bundle holding the log from its beginning, When the pack is built from it, Then it is the pack the topics give', async () => {
      await writeBundleOf(0);
      const fromBundle = bufferedOutput();
      const fromTopics = bufferedOutput();

      expect(evidenceFromBundle(dir, period, fromBundle, environment())).toBe(0);
      await evidenceCommand(busWithLog(), period, fromTopics, environment());

      const bundled = JSON.parse(fromBundle.stdout()) as EvidencePack;
      expect(bundled.controls).toEqual((JSON.parse(fromTopics.stdout()) as EvidencePack).controls);
      expect(bundled.log.source).toContain('every tree from its first record');
      expect(fromBundle.stderr()).toContain('(1 undecodable records skipped)');
    });

    it('Given a bundle whose trees start later in the log, Then it says facts before them are missing', async () => {
      await writeBundleOf(5);

      expect(evidenceFromBundle(dir, period, bufferedOutput(), environment())).toBe(0);
      const io = bufferedOutput();
      evidenceFromBundle(dir, period, io, environment());
      expect(io.stderr()).toContain('facts before it are not in the bundle');
    });

    it('Given a directory that is not a bundle, Then it exits 1 naming the manifest', () => {
      const io = bufferedOutput();

      expect(evidenceFromBundle(dir, period, io, environment())).toBe(1);
      expect(io.stderr()).toContain('manifest.json: not found');
    });
  });
});
