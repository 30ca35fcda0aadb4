import {
  PolicyBundleLoaded,
  PolicyDecisionRecorded,
  PolicyDecisionRecordedV1,
  fixtureMeta,
  fixtureOf,
  registry,
  upcastDecisionRecordedV1ToV2,
} from '@grantline/contracts';
import type { DecisionRecordedData } from '@grantline/contracts';
import { loadBundleFromDirectory } from './bundle-loader';
import type { Decision } from './decision.types';
import { evaluate } from './evaluate';
import { reproduceFromLog, reproduceRecorded } from './recorded-reproduction';
import { humanInput, inlineBundle } from './testing/policy-fixtures';

const shipped = loadBundleFromDirectory(`${__dirname}/../../../policies`);

/** A decision as the policy service records it (v2), after a trip through JSON as on the log. */
const recordOf = (decision: Decision): DecisionRecordedData => {
  const { provenance, ...output } = decision;
  const record: DecisionRecordedData = {
    ...fixtureOf(PolicyDecisionRecorded).data,
    requestId: decision.requestId,
    bundleDigest: decision.bundleDigest.replace('sha256:', ''),
    inputSnapshot: { ...provenance.input },
    evaluation: {
      outcome: 'evaluated',
      bundleName: provenance.bundleName,
      bundleVersion: provenance.bundleVersion,
      engineVersion: provenance.engineVersion,
      decision: output as Extract<DecisionRecordedData['evaluation'], { outcome: 'evaluated' }>['decision'],
    },
  };
  return JSON.parse(JSON.stringify(record)) as DecisionRecordedData;
};

describe('reproducing a recorded decision', () => {
  const decision = evaluate(shipped, humanInput({ request: { id: 'req-repro', duration: 'PT8H', justification: 'a ticket' } }));

  it('Given a v2 record read back from the log, When reproduced with its bundle, Then every field is identical, input and provenance included', () => {
    const result = reproduceRecorded(recordOf(decision), shipped);

    expect(result).toMatchObject({ status: 'identical', decisionId: fixtureOf(PolicyDecisionRecorded).data.decisionId });
    expect(result.status === 'identical' && result.fields).toEqual(
      expect.arrayContaining(['effect', 'effectiveDuration', 'entitlements', 'recordOnly', 'route', 'provenance.input', 'provenance.engineVersion']),
    );
  });

  it('Given a record whose recorded output was altered, When reproduced, Then it is different and names the field with both values', () => {
    const record = recordOf(decision);
    const altered = {
      ...record,
      evaluation: { ...record.evaluation, decision: { ...(record.evaluation as { decision: object }).decision, effectiveDuration: 'P1D' } },
    };

    const result = reproduceRecorded(altered as DecisionRecordedData, shipped);

    expect(result).toMatchObject({
      status: 'different',
      differences: [{ field: 'effectiveDuration', recorded: '"P1D"', reproduced: JSON.stringify(decision.effectiveDuration) }],
    });
  });

  it('Given a record whose input was altered, When reproduced, Then the input and whatever it changed differ', () => {
    const record = recordOf(decision);
    const altered = { ...record, inputSnapshot: { ...record.inputSnapshot, request: { id: 'req-repro', duration: 'PT2H', justification: 'a ticket' } } };

    const result = reproduceRecorded(altered, shipped);

    expect(result.status).toBe('different');
    expect(result.status === 'different' && result.differences.map((d) => d.field)).toContain('effectiveDuration');
  });

  it('Given a record made by another bundle, When reproduced with this one, Then it is different, naming both digests', () => {
    const other = inlineBundle(`  - id: allow-all\n    effect: auto_approve\n    reason: ok\n`);

    const result = reproduceRecorded(recordOf(decision), other);

    expect(result).toMatchObject({ status: 'different', differences: [], reason: expect.stringContaining('was made by bundle') });
  });

  it('Given a v1 record upcast to v2, When reproduced, Then it is not reproducible (recorded before v2), never identical', () => {
    const upcast = upcastDecisionRecordedV1ToV2(fixtureOf(PolicyDecisionRecordedV1).data);

    expect(reproduceRecorded(upcast, shipped)).toEqual({
      status: 'not_reproducible',
      decisionId: upcast.decisionId,
      why: 'recorded_before_v2',
      reason: expect.stringContaining('not reproducible: recorded before v2'),
    });
  });

  it('Given a request refused before evaluation, When reproduced, Then it is not reproducible and says why it was refused', () => {
    const refused: DecisionRecordedData = {
      ...recordOf(decision),
      engine: 'builtin',
      reasons: ['unknown identity ghost'],
      evaluation: { outcome: 'refused_before_evaluation' },
    };

    expect(reproduceRecorded(refused, shipped)).toMatchObject({ status: 'not_reproducible', reason: expect.stringContaining('unknown identity ghost') });
  });
});

describe('reproducing the decisions of a log', () => {
  const decision = evaluate(shipped, humanInput({ request: { id: 'req-log', duration: 'PT8H', justification: 'a ticket' } }));
  const bundleLoaded = registry.encode(
    PolicyBundleLoaded,
    { digest: decision.bundleDigest.replace('sha256:', ''), files: shipped.files.map((file) => ({ ...file })) },
    fixtureMeta({ id: 'bundle' }),
  );
  const recorded = registry.encode(PolicyDecisionRecorded, { ...recordOf(decision), decisionId: 'dec-log' }, fixtureMeta({ id: 'evt-dec-log' }));
  const v1 = registry.decode(
    JSON.parse(JSON.stringify(registry.encode(PolicyDecisionRecordedV1, fixtureOf(PolicyDecisionRecordedV1).data, fixtureMeta({ id: 'evt-v1' })))),
  );

  it('Given the bundle and decisions on the log, When reproduced, Then each decision gets its verdict, in log order', () => {
    expect(reproduceFromLog([bundleLoaded, recorded, v1]).map((result) => [result.decisionId, result.status])).toEqual([
      ['dec-log', 'identical'],
      [fixtureOf(PolicyDecisionRecordedV1).data.decisionId, 'not_reproducible'],
    ]);
  });

  it('Given a decision id or its event id, When reproduced, Then only that decision is', () => {
    expect(reproduceFromLog([bundleLoaded, recorded, v1], 'dec-log')).toHaveLength(1);
    expect(reproduceFromLog([bundleLoaded, recorded, v1], 'evt-dec-log')).toMatchObject([{ decisionId: 'dec-log', status: 'identical' }]);
    expect(reproduceFromLog([bundleLoaded, recorded, v1], 'nothing-such')).toEqual([]);
  });

  it('Given a log without the bundle a decision names, When reproduced, Then it is not reproducible and says the bundle is missing', () => {
    expect(reproduceFromLog([recorded])).toMatchObject([
      { status: 'not_reproducible', why: 'bundle_not_on_log', reason: expect.stringContaining('is not on the log') },
    ]);
  });
});
