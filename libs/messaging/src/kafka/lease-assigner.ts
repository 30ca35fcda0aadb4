import { AssignerProtocol } from 'kafkajs';
import type { PartitionAssigner } from 'kafkajs';

/** The group protocol of lease groups; every candidate speaks it, so the coordinator always picks it. */
export const LEASE_ASSIGNER_NAME = 'GrantlineLease';
const VERSION = 1;

/** What each candidate tells the group leader when it (re)joins, in its member metadata. */
export interface LeaseCandidacy {
  readonly instanceId: string;
  /** It holds the lease now (its last assignment, still confirmed): it keeps it. */
  readonly holding: boolean;
  /** It may be given the lease (false once it lost or released it). */
  readonly eligible: boolean;
  /** Epoch ms since which it campaigns: the longest-waiting standby is chosen when nobody holds the lease. */
  readonly campaigningSince: number;
}

export interface LeaseMember {
  readonly memberId: string;
  readonly candidacy: LeaseCandidacy | undefined;
}

export function encodeCandidacy(candidacy: LeaseCandidacy): Buffer {
  return Buffer.from(JSON.stringify({ v: VERSION, ...candidacy }), 'utf8');
}

/** Undefined for anything that is not a candidacy of this version (such a member is never chosen). */
export function decodeCandidacy(userData: Buffer | undefined | null): LeaseCandidacy | undefined {
  if (!userData || userData.length === 0) return undefined;
  try {
    const raw = JSON.parse(userData.toString('utf8')) as Partial<LeaseCandidacy> & { v?: unknown };
    if (raw.v !== VERSION || typeof raw.instanceId !== 'string' || typeof raw.holding !== 'boolean' || typeof raw.eligible !== 'boolean') return undefined;
    if (typeof raw.campaigningSince !== 'number') return undefined;
    return { instanceId: raw.instanceId, holding: raw.holding, eligible: raw.eligible, campaigningSince: raw.campaigningSince };
  } catch {
    return undefined;
  }
}

const byMemberId = (a: LeaseMember, b: LeaseMember): number => (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0);

/**
 * Who holds the lease after a rebalance: sticky — the member that holds it keeps it, so a standby joining (or
 * leaving) never moves it — otherwise the standby that has waited longest. Members that are not eligible (or speak
 * another version) are never chosen; undefined when no member is eligible.
 */
export function chooseHolder(members: readonly LeaseMember[]): string | undefined {
  const eligible = members.filter((member) => member.candidacy?.eligible === true);
  const holders = eligible.filter((member) => member.candidacy?.holding === true).sort(byMemberId);
  if (holders[0]) return holders[0].memberId;
  const waiting = [...eligible].sort((a, b) => (a.candidacy?.campaigningSince ?? 0) - (b.candidacy?.campaigningSince ?? 0) || byMemberId(a, b));
  return waiting[0]?.memberId;
}

/**
 * A kafkajs partition assigner for a single-partition lease topic: partition 0 — the lease — goes to the member
 * `chooseHolder` picks, nothing to the others. Whichever member leads the group runs it, with every member's
 * candidacy from its metadata; `candidacy()` is this member's, read at each join.
 */
export function leaseAssigner(candidacy: () => LeaseCandidacy): PartitionAssigner {
  return () => ({
    name: LEASE_ASSIGNER_NAME,
    version: VERSION,
    async assign({ members, topics }) {
      const decoded: LeaseMember[] = members.map((member) => ({
        memberId: member.memberId,
        candidacy: decodeCandidacy(AssignerProtocol.MemberMetadata.decode(member.memberMetadata)?.userData),
      }));
      const chosen = chooseHolder(decoded);
      return members.map(({ memberId }) => ({
        memberId,
        memberAssignment: AssignerProtocol.MemberAssignment.encode({
          version: VERSION,
          assignment: memberId === chosen ? Object.fromEntries(topics.map((topic) => [topic, [0]])) : {},
          userData: Buffer.alloc(0),
        }),
      }));
    },
    protocol({ topics }) {
      return {
        name: LEASE_ASSIGNER_NAME,
        metadata: AssignerProtocol.MemberMetadata.encode({ version: VERSION, topics, userData: encodeCandidacy(candidacy()) }),
      };
    },
  });
}
