import { lifecycleEvents } from '../testing/lifecycle-events.fixture';
import { projectInMemory } from '../testing/in-memory-projection';
import { requestTimelineProjection } from './request-timeline.projection';

const chain = lifecycleEvents({ requestId: 'req-1' }).map((placed) => placed.event);

describe('request timeline projection', () => {
  it('Given the whole chain of a request, When projected, Then every event is one ordered entry with actor and time', () => {
    const timeline = projectInMemory(requestTimelineProjection, chain).get('req-1');

    expect(timeline?.entries.map((entry) => entry.type)).toEqual([
      'iga.request.submitted.v2',
      'iga.policy.decision-recorded.v2',
      'iga.approval.task-opened.v1',
      'iga.approval.self-approval-blocked.v1',
      'iga.approval.decision-recorded.v1',
      'iga.approval.request-approved.v1',
      'iga.grant.created.v1',
      'iga.grant.provisioning-requested.v1',
      'iga.grant.activated.v1',
      'iga.timer.fired.v2',
      'iga.grant.deprovisioning-requested.v1',
      'iga.grant.revoked.v1',
    ]);
    expect(timeline?.entries[0]).toMatchObject({ actor: { id: 'alice' }, at: '2025-03-01T09:00:00.000Z' });
    expect(timeline?.entries[4]).toMatchObject({ actor: { id: 'bob' }, details: { decision: 'approve', comment: 'Matches the export runbook' } });
    expect(timeline?.entries.at(-1)).toMatchObject({ grantId: 'req-1:ent-pg-orders-read', details: { reason: 'expiry' } });
    expect(timeline?.status).toBe('ended');
  });

  it('Given a projected event, When the same event is applied again, Then the document is unchanged', () => {
    const once = projectInMemory(requestTimelineProjection, chain.slice(0, 3));
    const before = once.get('req-1');
    const duplicate = chain[2]!;

    const after = requestTimelineProjection.apply(before, duplicate, 'req-1');

    expect(after).toBe(before);
    expect(after.entries).toHaveLength(3);
  });

  it('Given the chain read in another topic interleaving, When projected, Then the document is identical', () => {
    const byTopic = (topic: string) =>
      lifecycleEvents({ requestId: 'req-1' })
        .filter((placed) => placed.topic === topic)
        .map((p) => p.event);
    const reversedTopics = [
      ...byTopic('iga.schedule.v1'),
      ...byTopic('iga.grants.v1'),
      ...byTopic('iga.approvals.v1'),
      ...byTopic('iga.decisions.v1'),
      ...byTopic('iga.requests.v1'),
    ];

    expect(projectInMemory(requestTimelineProjection, reversedTopics).get('req-1')).toEqual(projectInMemory(requestTimelineProjection, chain).get('req-1'));
  });

  it('Given grant events without a request id, When projected, Then they land on the request named by the correlation id', () => {
    const activated = chain.find((event) => event.type === 'iga.grant.activated.v1')!;

    expect(requestTimelineProjection.documentIdsOf(activated)).toEqual(['req-1']);
  });

  it('Given only a submission and a pending decision, When projected, Then the status is pending approval', () => {
    expect(projectInMemory(requestTimelineProjection, chain.slice(0, 3)).get('req-1')?.status).toBe('pending_approval');
  });
});
