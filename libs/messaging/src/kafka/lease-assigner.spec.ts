import { AssignerProtocol } from 'kafkajs';
import { chooseHolder, decodeCandidacy, encodeCandidacy, leaseAssigner } from './lease-assigner';
import type { LeaseCandidacy, LeaseMember } from './lease-assigner';

const candidate = (instanceId: string, overrides: Partial<LeaseCandidacy> = {}): LeaseCandidacy => ({
  instanceId,
  holding: false,
  eligible: true,
  campaigningSince: 1_000,
  ...overrides,
});
const member = (memberId: string, candidacy: LeaseCandidacy | undefined): LeaseMember => ({ memberId, candidacy });

describe('lease assigner', () => {
  it('keeps the lease with its holder whoever joins or leaves (sticky)', () => {
    const members = [
      member('m-a', candidate('a', { campaigningSince: 1 })),
      member('m-z', candidate('z', { holding: true, campaigningSince: 500 })),
      member('m-b', candidate('b', { campaigningSince: 2 })),
    ];
    expect(chooseHolder(members)).toBe('m-z');
  });

  it('without a holder, gives it to the standby that has waited longest (member id breaks ties)', () => {
    expect(chooseHolder([member('m-b', candidate('b', { campaigningSince: 20 })), member('m-a', candidate('a', { campaigningSince: 10 }))])).toBe('m-a');
    expect(chooseHolder([member('m-2', candidate('x')), member('m-1', candidate('y'))])).toBe('m-1');
  });

  it('never chooses a member that lost or released it, nor one speaking another version', () => {
    expect(chooseHolder([member('m-a', candidate('a', { eligible: false, holding: false })), member('m-b', undefined)])).toBeUndefined();
    expect(chooseHolder([member('m-a', candidate('a', { eligible: false })), member('m-c', candidate('c', { campaigningSince: 9_999 }))])).toBe('m-c');
  });

  it('round-trips a candidacy through member metadata and rejects anything else', () => {
    const mine = candidate('host-1-42', { holding: true, campaigningSince: 123 });
    expect(decodeCandidacy(encodeCandidacy(mine))).toEqual(mine);
    expect(decodeCandidacy(Buffer.from('not json'))).toBeUndefined();
    expect(decodeCandidacy(Buffer.from(JSON.stringify({ v: 2, ...mine })))).toBeUndefined();
    expect(decodeCandidacy(Buffer.alloc(0))).toBeUndefined();
  });

  it('as a kafkajs assigner: partition 0 of the lease topic to the chosen member, nothing to the others', async () => {
    const topic = 'ns.grantline.lease.provisioning';
    const assigner = (mine: LeaseCandidacy) => leaseAssigner(() => mine)({} as never);
    const metadata = (mine: LeaseCandidacy): Buffer => assigner(mine).protocol({ topics: [topic] }).metadata;
    const assignments = await assigner(candidate('a')).assign({
      topics: [topic],
      members: [
        { memberId: 'm-a', memberMetadata: metadata(candidate('a', { campaigningSince: 5 })) },
        { memberId: 'm-b', memberMetadata: metadata(candidate('b', { holding: true, campaigningSince: 9 })) },
      ],
    });
    const decoded = Object.fromEntries(
      assignments.map(({ memberId, memberAssignment }) => [memberId, AssignerProtocol.MemberAssignment.decode(memberAssignment)?.assignment]),
    );
    expect(decoded).toEqual({ 'm-a': {}, 'm-b': { [topic]: [0] } });
    expect(assigner(candidate('a')).protocol({ topics: [topic] }).name).toBe('GrantlineLease');
  });
});
