import { join } from 'node:path';
import { PolicyBundleLoaded, PolicyDecisionRecorded, PolicyDecisionRecordedV1, fixtureMeta, fixtureOf, registry } from '@grantline/contracts';
import type { DecisionRecordedData, Envelope } from '@grantline/contracts';
import { evaluate, loadBundleFromDirectory } from '@grantline/policy-engine';
import { bufferedOutput } from '../output';
import { REPRODUCE_EXIT, REPRODUCTION_TOPICS, decisionReproduce } from './decision-commands';

const shipped = loadBundleFromDirectory(join(__dirname, '../../../../policies'));
const input = {
  request: { id: 'req-cli', duration: 'PT8H', justification: 'a ticket' },
  subject: { id: 'hanna', kind: 'human', manager: 'max' },
  requester: { id: 'hanna' },
  entitlements: [{ id: 'orders-staging-read', system: 'orders-db-staging', sensitivity: 'low', environment: 'nonprod', privilege: 'read' }],
  now: '2025-06-02T10:00:00Z',
};

/** The log as the policy service leaves it: the bundle, a v2 decision (optionally altered), a v1 decision. */
const logWith = (alter: (data: DecisionRecordedData) => DecisionRecordedData = (data) => data): Envelope[] => {
  const { provenance, ...output } = evaluate(shipped, input);
  const data: DecisionRecordedData = {
    ...fixtureOf(PolicyDecisionRecorded).data,
    decisionId: 'dec-cli',
    requestId: 'req-cli',
    bundleDigest: output.bundleDigest.replace('sha256:', ''),
    inputSnapshot: { ...provenance.input },
    evaluation: {
      outcome: 'evaluated',
      bundleName: provenance.bundleName,
      bundleVersion: provenance.bundleVersion,
      engineVersion: provenance.engineVersion,
      decision: JSON.parse(JSON.stringify(output)) as Extract<DecisionRecordedData['evaluation'], { outcome: 'evaluated' }>['decision'],
    },
  };
  const wire = (event: Envelope): Envelope => registry.decode(JSON.parse(JSON.stringify(event)));
  return [
    wire(registry.encode(PolicyBundleLoaded, { digest: data.bundleDigest, files: shipped.files.map((file) => ({ ...file })) }, fixtureMeta({ id: 'bundle' }))),
    wire(registry.encode(PolicyDecisionRecorded, alter(data), fixtureMeta({ id: 'evt-cli' }))),
    wire(registry.encode(PolicyDecisionRecordedV1, fixtureOf(PolicyDecisionRecordedV1).data, fixtureMeta({ id: 'evt-v1' }))),
  ];
};

describe('grantline decision reproduce', () => {
  it('reads the decisions and bundles topics, and exits 0 listing every field when the decision reproduces bit for bit', async () => {
    const io = bufferedOutput();
    const read = jest.fn(async () => logWith());

    expect(await decisionReproduce(read, 'dec-cli', {}, io)).toBe(REPRODUCE_EXIT.identical);
    expect(read).toHaveBeenCalledWith(REPRODUCTION_TOPICS);
    expect(REPRODUCTION_TOPICS).toEqual(expect.arrayContaining(['iga.decisions.v1', 'iga.policy-bundles.v1']));
    expect(io.stdout()).toMatch(/^decision dec-cli: identical, bit for bit \(\d+ fields\)\n/);
    expect(io.stdout()).toContain('  = effectiveDuration\n');
    expect(io.stdout()).toContain('  = provenance.input\n');
  });

  it('exits 1 with each differing field, recorded against reproduced, when the record does not reproduce', async () => {
    const io = bufferedOutput();
    const tampered = (data: DecisionRecordedData): DecisionRecordedData =>
      data.evaluation.outcome === 'evaluated'
        ? { ...data, evaluation: { ...data.evaluation, decision: { ...data.evaluation.decision, effect: 'deny' } } }
        : data;

    expect(await decisionReproduce(async () => logWith(tampered), 'dec-cli', {}, io)).toBe(REPRODUCE_EXIT.different);
    expect(io.stdout()).toContain('decision dec-cli: DIFFERENT');
    expect(io.stdout()).toContain('  ≠ effect\n      recorded:   "deny"\n      reproduced: "auto_approve"\n');
  });

  it('exits 3 for a v1 record ("recorded before v2"), never claiming equality, and 2 for a decision not on the log', async () => {
    const v1 = bufferedOutput();
    expect(await decisionReproduce(async () => logWith(), fixtureOf(PolicyDecisionRecordedV1).data.decisionId, {}, v1)).toBe(REPRODUCE_EXIT.notReproducible);
    expect(v1.stdout()).toContain('not reproducible: recorded before v2');

    const missing = bufferedOutput();
    expect(await decisionReproduce(async () => logWith(), 'dec-nowhere', {}, missing)).toBe(REPRODUCE_EXIT.notFound);
    expect(missing.stderr()).toBe('no recorded decision dec-nowhere on the log\n');
  });
});
