import { buildEvidencePack } from './evidence-pack';
import { EVIDENCE_TOPICS, EvidenceLog } from './evidence-log';
import type { ControlEvidence, ControlId, EvidencePack } from './evidence-pack.model';
import { renderEvidenceMarkdown } from './evidence-markdown';
import { EvidenceQuerySchema } from './evidence-query.schema';
import { ENTITLEMENTS, LogScenario } from './testing/log-scenario';

/** The period the scenarios report on: ten hours from the scenario start; judged at its end unless a spec says. */
function packOf(scenario: LogScenario, options: { fromMinutes?: number; toMinutes?: number; nowMinutes?: number } = {}): EvidencePack {
  const toMinutes = options.toMinutes ?? 600;
  return buildEvidencePack(new EvidenceLog().addAll(scenario.events), {
    period: { from: scenario.at(options.fromMinutes ?? 0), to: scenario.at(toMinutes) },
    now: new Date(scenario.at(options.nowMinutes ?? toMinutes)),
    source: 'spec',
    topics: EVIDENCE_TOPICS,
  });
}

const controlOf = (pack: EvidencePack, id: ControlId): ControlEvidence => {
  const found = pack.controls.find((control) => control.id === id);
  if (found === undefined) throw new Error(`no control ${id}`);
  return found;
};

describe('evidence pack', () => {
  describe('AC-2 account management', () => {
    it('Given an auto-approved grant that expired and was removed, When the pack is built, Then its line links request, decision, approval, provisioning and removal', () => {
      const scenario = new LogScenario().catalogue().human('alice', -100);
      const grantId = scenario.grant({ requestId: 'req-1', subject: 'alice', at: 10, lifetimeMinutes: 60, revokedAt: 70 });

      const pack = packOf(scenario);

      const ac2 = controlOf(pack, 'AC-2');
      expect(ac2).toMatchObject({ status: 'satisfied', count: 1, findings: 0 });
      expect(ac2.lines[0]).toMatchObject({ status: 'ok', about: grantId });
      expect(ac2.lines[0]!.text).toContain('auto-approved by policy');
      expect(ac2.lines[0]!.links.map((link) => link.type)).toEqual([
        'iga.request.submitted.v2',
        'iga.policy.decision-recorded.v2',
        'iga.approval.request-approved.v1',
        'iga.grant.created.v1',
        'iga.grant.activated.v1',
        'iga.timer.fired.v2',
        'iga.grant.deprovisioning-requested.v1',
        'iga.grant.revoked.v1',
      ]);
      expect(controlOf(pack, 'AC-2(2)')).toMatchObject({ status: 'satisfied', count: 1, lines: [expect.objectContaining({ status: 'ok' })] });
    });

    it('Given a grant approved by the manager, Then the line names the approver and links the approval decision', () => {
      const scenario = new LogScenario().catalogue();
      scenario.grant({ requestId: 'req-2', subject: 'alice', basis: 'approver', approver: 'maria', at: 10, lifetimeMinutes: 240 });

      const line = controlOf(packOf(scenario), 'AC-2').lines[0]!;

      expect(line.text).toContain('approved by maria (manager)');
      expect(line.links.map((link) => link.type)).toContain('iga.approval.decision-recorded.v1');
    });

    it('Given a grant with no request, decision or approval on the log, Then it is a finding naming what is missing', () => {
      const scenario = new LogScenario().catalogue();
      scenario.grant({ requestId: 'req-ghost', subject: 'mallory', basis: 'none', withRequest: false, at: 10, lifetimeMinutes: 60, revokedAt: 70 });

      const ac2 = controlOf(packOf(scenario), 'AC-2');

      expect(ac2).toMatchObject({ status: 'finding', findings: 1 });
      expect(ac2.lines[0]!.text).toContain('missing: request, policy decision, approval');
      expect(controlOf(packOf(scenario), 'PR.AA-05').status).toBe('finding');
    });

    it('Given a grant created before the period and still active in it, and one that ended before it, Then only the first is reported', () => {
      const scenario = new LogScenario().catalogue();
      const earlier = scenario.grant({ requestId: 'req-old', subject: 'alice', at: -300, lifetimeMinutes: 1440 });
      scenario.grant({ requestId: 'req-gone', subject: 'alice', at: -300, lifetimeMinutes: 60, revokedAt: -240 });

      const ac2 = controlOf(packOf(scenario), 'AC-2');

      expect(ac2.lines.map((line) => line.about)).toEqual([earlier]);
    });

    it('Given no grant at all, Then AC-2 is not observable and says why', () => {
      expect(controlOf(packOf(new LogScenario().catalogue()), 'AC-2')).toMatchObject({
        status: 'not_observable',
        reason: 'No grant existed during the period.',
        count: 0,
      });
    });
  });

  describe('AC-2(2) temporary accounts removed on time', () => {
    it('Given a grant still active past its expiry and the tolerance, Then it is a finding', () => {
      const scenario = new LogScenario().catalogue();
      scenario.grant({ requestId: 'req-3', subject: 'alice', at: 10, lifetimeMinutes: 60 });

      const ac22 = controlOf(packOf(scenario), 'AC-2(2)');

      expect(ac22).toMatchObject({ status: 'finding', findings: 1 });
      expect(ac22.lines[0]!.text).toMatch(/still active 8 h 50 min after expiry/);
    });

    it('Given a grant removed 30 minutes after expiry (tolerance 15 minutes), Then it is a finding; 5 minutes after, it is not', () => {
      const late = new LogScenario().catalogue();
      late.grant({ requestId: 'req-late', subject: 'alice', at: 10, lifetimeMinutes: 60, revokedAt: 100 });
      const onTime = new LogScenario().catalogue();
      onTime.grant({ requestId: 'req-ok', subject: 'alice', at: 10, lifetimeMinutes: 60, revokedAt: 75 });

      expect(controlOf(packOf(late), 'AC-2(2)').lines[0]).toMatchObject({ status: 'finding', text: expect.stringContaining('removed 30 min after expiry') });
      expect(controlOf(packOf(onTime), 'AC-2(2)').lines[0]).toMatchObject({ status: 'ok' });
    });

    it('Given a grant that just expired, When judged within the tolerance, Then it is pending, not a finding', () => {
      const scenario = new LogScenario().catalogue();
      scenario.grant({ requestId: 'req-4', subject: 'alice', at: 10, lifetimeMinutes: 60 });

      const ac22 = controlOf(packOf(scenario, { toMinutes: 75, nowMinutes: 75 }), 'AC-2(2)');

      expect(ac22).toMatchObject({ status: 'satisfied', findings: 0, lines: [expect.objectContaining({ status: 'pending' })] });
    });

    it('Given a grant removed for expiry by a scheduler whose clock runs ahead, Then it counts as expired and removed on time', () => {
      const scenario = new LogScenario().catalogue();
      scenario.grant({ requestId: 'req-ahead', subject: 'alice', at: 10, lifetimeMinutes: 600, revokedAt: 20 });

      expect(controlOf(packOf(scenario, { toMinutes: 30 }), 'AC-2(2)').lines).toEqual([
        expect.objectContaining({ status: 'ok', text: expect.stringContaining('removed 9 h 50 min before expiry (expiry)') }),
      ]);
    });

    it('Given grants that expire after the period, Then they are not judged yet', () => {
      const scenario = new LogScenario().catalogue();
      scenario.grant({ requestId: 'req-5', subject: 'alice', at: 10, lifetimeMinutes: 6000 });

      expect(controlOf(packOf(scenario), 'AC-2(2)')).toMatchObject({ status: 'not_observable', reason: expect.stringContaining('1 expire later') });
    });
  });

  describe('AC-2(3) disable accounts', () => {
    it('Given an offboarded person whose grant was removed within a minute, Then the line is ok and links the offboarding and the removal', () => {
      const scenario = new LogScenario().catalogue().human('bob', -100);
      scenario.grant({ requestId: 'req-6', subject: 'bob', at: 10, lifetimeMinutes: 480, revokedAt: 121, revokeReason: 'offboarding' });
      scenario.offboard('bob', 120);

      const ac23 = controlOf(packOf(scenario), 'AC-2(3)');

      expect(ac23).toMatchObject({ status: 'satisfied', count: 1 });
      expect(ac23.lines[0]!.text).toContain('removed 1 min after (offboarding)');
      expect(ac23.lines[0]!.links.map((link) => link.type)).toEqual(['iga.identity.offboarded.v1', 'iga.grant.created.v1', 'iga.grant.revoked.v1']);
    });

    it('Given an offboarded person whose grant survived, Then it is a finding carried into PR.AA-01', () => {
      const scenario = new LogScenario().catalogue().human('bob', -100);
      scenario.grant({ requestId: 'req-7', subject: 'bob', at: 10, lifetimeMinutes: 480 });
      scenario.offboard('bob', 120);

      const pack = packOf(scenario);

      expect(controlOf(pack, 'AC-2(3)').lines[0]).toMatchObject({ status: 'finding', text: expect.stringContaining('access survived') });
      expect(controlOf(pack, 'PR.AA-01')).toMatchObject({
        status: 'finding',
        lines: expect.arrayContaining([expect.objectContaining({ text: expect.stringMatching(/^\[AC-2\(3\)\]/) })]),
      });
    });

    it('Given a person on leave (suspended) who keeps a grant, Then access surviving the leave is a finding', () => {
      const scenario = new LogScenario().catalogue().human('carol', -100);
      scenario.grant({ requestId: 'req-8', subject: 'carol', at: 10, lifetimeMinutes: 480 });
      scenario.human('carol', 60, 'suspended');

      expect(controlOf(packOf(scenario), 'AC-2(3)').lines[0]).toMatchObject({
        status: 'finding',
        about: 'carol',
        text: expect.stringContaining('suspended at'),
      });
    });

    it('Given a grant created for someone already offboarded, Then it is a finding', () => {
      const scenario = new LogScenario().catalogue().human('dave', -100).offboard('dave', 5);
      scenario.grant({ requestId: 'req-9', subject: 'dave', at: 10, lifetimeMinutes: 60, revokedAt: 70 });

      expect(controlOf(packOf(scenario), 'AC-2(3)').lines[0]).toMatchObject({ status: 'finding', text: expect.stringContaining('granted while offboarded') });
    });
  });

  describe('AC-5 separation of duties', () => {
    it('Given a refused self-approval and the manager approving, Then AC-5 is satisfied with both lines', () => {
      const scenario = new LogScenario().catalogue();
      scenario.selfApprovalBlocked('req-10', 'alice', 11);
      scenario.grant({ requestId: 'req-10', subject: 'alice', basis: 'approver', approver: 'maria', at: 10, lifetimeMinutes: 240 });

      const ac5 = controlOf(packOf(scenario), 'AC-5');

      expect(ac5).toMatchObject({ status: 'satisfied', count: 2 });
      expect(ac5.lines.map((line) => line.text)).toEqual(
        expect.arrayContaining([
          expect.stringContaining('self-approval refused: alice (requester)'),
          expect.stringContaining('maria approved task req-10:manager'),
        ]),
      );
    });

    it('Given an approval recorded by the requester herself, Then it is a finding', () => {
      const scenario = new LogScenario().catalogue();
      scenario.grant({ requestId: 'req-11', subject: 'alice', basis: 'approver', approver: 'alice', at: 10, lifetimeMinutes: 240 });

      expect(controlOf(packOf(scenario), 'AC-5')).toMatchObject({
        status: 'finding',
        lines: [expect.objectContaining({ text: expect.stringContaining('self-approval') })],
      });
    });

    it('Given a policy decision with an SoD conflict that was auto-approved, Then it is a finding', () => {
      const scenario = new LogScenario().catalogue();
      scenario.grant({ requestId: 'req-12', subject: 'alice', at: 10, lifetimeMinutes: 60, sodConflict: true });

      expect(controlOf(packOf(scenario), 'AC-5').lines).toEqual([
        expect.objectContaining({ status: 'finding', text: expect.stringContaining('payments-maker-checker') }),
      ]);
    });

    it('Given no approval activity, Then AC-5 is not observable', () => {
      expect(controlOf(packOf(new LogScenario().catalogue()), 'AC-5').status).toBe('not_observable');
    });
  });

  describe('AC-6 least privilege and NHI5', () => {
    it('Given a privileged production grant held by a pipeline for 30 days, Then it is standing privilege in AC-6 and NHI5', () => {
      const scenario = new LogScenario().catalogue().nhi('deploy-bot', 'alice', -100);
      scenario.grant({
        requestId: 'req-13',
        subject: 'deploy-bot',
        kind: 'ci_pipeline',
        requester: 'alice',
        entitlementId: ENTITLEMENTS.prodWrite.entitlementId,
        at: 10,
        lifetimeMinutes: 43_200,
      });

      const pack = packOf(scenario);

      expect(controlOf(pack, 'AC-6').lines[0]).toMatchObject({
        status: 'finding',
        text: expect.stringContaining('standing privilege, lifetime 30 d exceeds 7 d'),
      });
      expect(controlOf(pack, 'NHI5')).toMatchObject({ status: 'finding', count: 1 });
    });

    it('Given a four-hour privileged grant, Then it is time-bound and both controls are satisfied', () => {
      const scenario = new LogScenario().catalogue().nhi('deploy-bot', 'alice', -100);
      scenario.grant({
        requestId: 'req-14',
        subject: 'deploy-bot',
        kind: 'ci_pipeline',
        requester: 'alice',
        entitlementId: ENTITLEMENTS.prodWrite.entitlementId,
        at: 10,
        lifetimeMinutes: 240,
        revokedAt: 250,
      });

      const pack = packOf(scenario);

      expect(controlOf(pack, 'AC-6')).toMatchObject({
        status: 'satisfied',
        lines: [expect.objectContaining({ status: 'ok', text: expect.stringContaining('time-bound: 3 h 59 min') })],
      });
      expect(controlOf(pack, 'NHI5').status).toBe('satisfied');
    });

    it('Given a break-glass grant, Then AC-6 lists it with its incident, justification, end and review', () => {
      const scenario = new LogScenario().catalogue();
      scenario.grant({
        requestId: 'req-15',
        subject: 'alice',
        basis: 'break_glass',
        at: 10,
        lifetimeMinutes: 120,
        revokedAt: 130,
        revokeReason: 'break_glass_ttl',
      });

      const line = controlOf(packOf(scenario), 'AC-6').lines.find((candidate) => candidate.text.startsWith('break-glass'));

      expect(line?.text).toContain('incident servicenow:INC0042, justification "Investigate the nightly export"');
      expect(line?.text).toContain('(break_glass_ttl)');
      expect(line?.links.map((link) => link.type)).toContain('iga.approval.review-opened.v1');
    });

    it('Given only non-privileged grants, Then AC-6 is satisfied with no line and NHI5 is not observable without NHI grants', () => {
      const scenario = new LogScenario().catalogue();
      scenario.grant({ requestId: 'req-16', subject: 'alice', at: 10, lifetimeMinutes: 60, revokedAt: 70 });

      const pack = packOf(scenario);

      expect(controlOf(pack, 'AC-6')).toMatchObject({ status: 'satisfied', count: 0, reason: expect.stringContaining('none privileged') });
      expect(controlOf(pack, 'NHI5').status).toBe('not_observable');
    });

    it('Given no catalogue on the log, Then the privilege of the grants is not observable', () => {
      const scenario = new LogScenario();
      scenario.grant({ requestId: 'req-17', subject: 'alice', at: 10, lifetimeMinutes: 60, revokedAt: 70 });

      expect(controlOf(packOf(scenario), 'AC-6')).toMatchObject({
        status: 'not_observable',
        reason: expect.stringContaining('no catalogue on the log describes'),
      });
    });
  });

  describe('NHI1 improper offboarding', () => {
    it('Given a pipeline whose owner left and that nobody took over, Then it is a finding linking ownership and the leaver event', () => {
      const scenario = new LogScenario().catalogue().human('alice', -200).nhi('export-job', 'alice', -100).offboard('alice', 120, ['export-job']);

      const nhi1 = controlOf(packOf(scenario), 'NHI1');

      expect(nhi1).toMatchObject({ status: 'finding', count: 1 });
      expect(nhi1.lines[0]!.text).toContain('export-job (ci_pipeline) owned by alice');
      expect(nhi1.lines[0]!.text).toContain('neither transferred nor disabled');
      expect(nhi1.lines[0]!.links.map((link) => link.type)).toEqual(['iga.identity.upserted.v1', 'iga.identity.offboarded.v1']);
    });

    it('Given the pipeline was transferred to a new owner, Then it is ok', () => {
      const scenario = new LogScenario()
        .catalogue()
        .human('alice', -200)
        .nhi('export-job', 'alice', -100)
        .offboard('alice', 120)
        .ownerChanged('export-job', 'alice', 'carol', 180);

      expect(controlOf(packOf(scenario), 'NHI1').lines[0]).toMatchObject({ status: 'ok', text: expect.stringContaining('transferred to carol 1 h after') });
    });

    it('Given the pipeline was decommissioned (offboarded), Then it is ok', () => {
      const scenario = new LogScenario()
        .catalogue()
        .human('alice', -200)
        .nhi('export-job', 'alice', -100)
        .offboard('alice', 120)
        .nhi('export-job', 'alice', 130, 'offboarded');

      expect(controlOf(packOf(scenario), 'NHI1').lines[0]).toMatchObject({ status: 'ok', text: expect.stringContaining('disabled (offboarded)') });
    });
  });

  describe('NHI7 long-lived secrets and NHI10 human use', () => {
    it('Given a credential living 7 days where the policy allows 24 hours, Then it is a finding; 1 hour is ok', () => {
      const scenario = new LogScenario().catalogue().nhi('deploy-bot', 'alice', -100);
      const grantId = scenario.grant({ requestId: 'req-18', subject: 'deploy-bot', kind: 'ci_pipeline', requester: 'alice', at: 10, lifetimeMinutes: 600 });
      scenario.credential(grantId, 12, 10_080);
      const short = new LogScenario().catalogue().nhi('deploy-bot', 'alice', -100);
      short.credential(
        short.grant({ requestId: 'req-19', subject: 'deploy-bot', kind: 'ci_pipeline', requester: 'alice', at: 10, lifetimeMinutes: 600 }),
        12,
        60,
      );

      expect(controlOf(packOf(scenario), 'NHI7').lines[0]).toMatchObject({
        status: 'finding',
        text: expect.stringContaining('lifetime 7 d, exceeds the policy maximum PT24H'),
      });
      expect(controlOf(packOf(short), 'NHI7')).toMatchObject({ status: 'satisfied', count: 1 });
    });

    it('Given NHI credentials on the log, Then NHI10 says precisely that retrieval is not observable and claims nothing', () => {
      const scenario = new LogScenario().catalogue().nhi('deploy-bot', 'alice', -100);
      scenario.credential(
        scenario.grant({ requestId: 'req-20', subject: 'deploy-bot', kind: 'ci_pipeline', requester: 'alice', at: 10, lifetimeMinutes: 600 }),
        12,
        60,
      );

      const nhi10 = controlOf(packOf(scenario), 'NHI10');

      expect(nhi10).toMatchObject({ status: 'not_observable', count: 0, lines: [] });
      expect(nhi10.reason).toContain('Not yet observable: no event on the log records the retrieval or use of a credential');
      expect(nhi10.reason).toContain('1 NHI credentials were issued or valid in the period');
    });
  });

  describe('the pack as a whole', () => {
    const lifecycle = (): LogScenario => {
      const scenario = new LogScenario().catalogue().human('alice', -200).human('maria', -200).nhi('export-job', 'alice', -150);
      scenario.grant({ requestId: 'req-a', subject: 'alice', at: 10, lifetimeMinutes: 60, revokedAt: 70 });
      scenario.selfApprovalBlocked('req-b', 'alice', 21);
      scenario.grant({
        requestId: 'req-b',
        subject: 'alice',
        basis: 'approver',
        approver: 'maria',
        at: 20,
        lifetimeMinutes: 480,
        revokedAt: 301,
        revokeReason: 'offboarding',
      });
      scenario.offboard('alice', 300, ['export-job']);
      return scenario;
    };

    it('Given a small lifecycle, When the pack is built, Then every line links to at least one event, and every link is an event of the log at its position', () => {
      const scenario = lifecycle();
      const pack = packOf(scenario);
      const onLog = new Set(
        scenario.events.map(({ event, position }) => `${event.id}|${event.type}|${position.topic}|${position.partition}|${position.offset}|${event.time}`),
      );

      const lines = pack.controls.flatMap((control) => control.lines);
      expect(lines.length).toBeGreaterThan(5);
      for (const line of lines) {
        expect(line.links.length).toBeGreaterThan(0);
        for (const link of line.links) expect(onLog).toContain(`${link.id}|${link.type}|${link.topic}|${link.partition}|${link.offset}|${link.time}`);
      }
      expect(Object.fromEntries(pack.controls.map((control) => [control.id, control.status]))).toEqual({
        'AC-2': 'satisfied',
        'AC-2(2)': 'satisfied',
        'AC-2(3)': 'satisfied',
        'AC-5': 'satisfied',
        'AC-6': 'satisfied',
        'PR.AA-01': 'finding',
        'PR.AA-05': 'satisfied',
        NHI1: 'finding',
        NHI5: 'not_observable',
        NHI7: 'not_observable',
        NHI10: 'not_observable',
      });
      expect(pack.summary).toEqual({ satisfied: 6, findings: 2, notObservable: 3 });
      expect(pack.log.through['iga.grants.v1']).toEqual({
        '0': String(scenario.events.filter((event) => event.position.topic === 'iga.grants.v1').length - 1),
      });
    });

    it('Given every event delivered twice and the topics interleaved in another order, Then the pack is the same', () => {
      const scenario = lifecycle();
      const byTopic = [...scenario.events].sort((a, b) => b.position.topic.localeCompare(a.position.topic));

      const twice = buildEvidencePack(new EvidenceLog().addAll([...byTopic, ...scenario.events]), {
        period: { from: scenario.at(0), to: scenario.at(600) },
        now: new Date(scenario.at(600)),
        source: 'spec',
        topics: EVIDENCE_TOPICS,
      });

      expect(twice).toEqual(packOf(scenario));
    });

    it('Given a pack, When rendered as Markdown, Then every control, status and event link is in the document', () => {
      const pack = packOf(lifecycle());

      const markdown = renderEvidenceMarkdown(pack);

      for (const control of pack.controls) expect(markdown).toContain(`## ${control.id} ${control.title}`);
      expect(markdown).toContain('| NHI1 | OWASP Non-Human Identities Top 10 (2025) | Improper Offboarding | **finding** | 1 | 1 |');
      const link = controlOf(pack, 'AC-2').lines[0]!.links[0]!;
      expect(markdown).toContain(`\`${link.topic}/${link.partition}@${link.offset}\` ${link.type} \`${link.id}\``);
    });

    it('Given a tolerance that is not a duration, Then building refuses and names the parameter', () => {
      expect(() =>
        buildEvidencePack(new EvidenceLog(), {
          period: { from: '2026-01-01T00:00:00Z', to: '2026-01-02T00:00:00Z' },
          now: new Date(),
          source: 'spec',
          topics: [],
          parameters: { removalTolerance: '15m' },
        }),
      ).toThrow(/removalTolerance: expected an ISO-8601 duration/);
    });
  });

  describe('the query', () => {
    it.each([
      [{ from: '2026-01-02T00:00:00Z', to: '2026-01-01T00:00:00Z' }, 'to', 'must be after from'],
      [{ from: 'yesterday', to: '2026-01-01T00:00:00Z' }, 'from', 'Invalid instant'],
      [{ from: '2024-01-01T00:00:00Z', to: '2026-01-01T00:00:00Z' }, 'to', 'at most 366 days'],
      [{ from: '2026-01-01T00:00:00Z', to: '2026-01-02T00:00:00Z', format: 'pdf' }, 'format', ''],
      [{ from: '2026-01-01T00:00:00Z', to: '2026-01-02T00:00:00Z', extra: 'x' }, '(the query itself)', 'extra'],
    ])('Given %j, Then it is refused naming %s', (query, field, message) => {
      const parsed = EvidenceQuerySchema.safeParse(query);
      expect(parsed.success).toBe(false);
      const issue = parsed.error?.issues[0];
      expect(issue?.path.join('.') || '(the query itself)').toBe(field);
      expect(issue?.message ?? '').toContain(message);
    });

    it('Given a valid period without a format, Then JSON is the default', () => {
      expect(EvidenceQuerySchema.parse({ from: '2026-01-01T00:00:00Z', to: '2026-01-02T00:00:00+02:00' })).toEqual({
        from: '2026-01-01T00:00:00Z',
        to: '2026-01-02T00:00:00+02:00',
        format: 'json',
      });
    });
  });
});
