import { isoDurationToMillis } from '@grantline/contracts';
import type { Entitlement } from '@grantline/contracts';
import { millis } from './evidence-log';
import type { EvidenceLog, GrantFacts, IdentityFacts, IdentityStatus, RequestFacts } from './evidence-log';
import { DEFAULT_EVIDENCE_PARAMETERS } from './evidence-pack.model';
import type {
  ControlEvidence,
  ControlId,
  ControlStatus,
  EventLink,
  EvidenceLine,
  EvidencePack,
  EvidenceParameters,
  EvidencePeriod,
  Framework,
  LineStatus,
} from './evidence-pack.model';

export interface EvidencePackOptions {
  readonly period: EvidencePeriod;
  /** The instant the log is judged at (the caller's clock): deadlines after it are `pending`. */
  readonly now: Date;
  readonly parameters?: Partial<EvidenceParameters>;
  /** Where the events came from, for the reader: `kafka <brokers> namespace <ns>`, a bundle directory. */
  readonly source: string;
  readonly topics: readonly string[];
}

const NIST = 'NIST SP 800-53 Rev. 5' satisfies Framework;
const CSF = 'NIST CSF 2.0' satisfies Framework;
const NHI = 'OWASP Non-Human Identities Top 10 (2025)' satisfies Framework;

/** Production write or admin (the policy's own definition of privileged, `nhi-privileged-prod`), or critical anywhere. */
export function isPrivileged(entitlement: Entitlement): boolean {
  const writes = entitlement.privileges.some((privilege) => privilege === 'write' || privilege === 'admin');
  return (entitlement.environment === 'prod' && writes) || entitlement.sensitivity === 'critical';
}

/** `1 h 5 min`, `40 s`: how far apart two instants are, for a reader. */
export function spanText(ms: number): string {
  const abs = Math.abs(ms);
  if (abs < 1_000) return `${Math.round(abs)} ms`;
  if (abs < 60_000) return `${Math.round(abs / 1000)} s`;
  const minutes = Math.round(abs / 60_000);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h${minutes % 60 === 0 ? '' : ` ${minutes % 60} min`}`;
  return `${Math.round(hours / 24)} d`;
}

const iso = (ms: number): string => new Date(ms).toISOString();

function durationOf(name: keyof EvidenceParameters, value: string): number {
  const ms = isoDurationToMillis(value);
  if (ms === undefined) throw new RangeError(`${name}: expected an ISO-8601 duration such as PT15M or P7D (got ${value})`);
  return ms;
}

/** The story of one grant, as the log holds it, with the times the checks need. */
interface GrantView {
  readonly facts: GrantFacts;
  readonly grantId: string;
  readonly beneficiaryId: string;
  readonly entitlementId: string;
  readonly request: RequestFacts | undefined;
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly endedAt: number | undefined;
  /** Never provisioned and given up: no access was ever held. */
  readonly neverHeld: boolean;
}

interface ControlHeader {
  readonly id: ControlId;
  readonly framework: Framework;
  readonly title: string;
  readonly requirement: string;
  readonly method: string;
}

const lineOf = (status: LineStatus, about: string, text: string, links: readonly (EventLink | undefined)[]): EvidenceLine => ({
  status,
  about,
  text,
  links: links.filter((link): link is EventLink => link !== undefined),
});

/** The worst of several line statuses: a finding wins, then pending. */
const worst = (statuses: readonly LineStatus[]): LineStatus => (statuses.includes('finding') ? 'finding' : statuses.includes('pending') ? 'pending' : 'ok');

function control(
  header: ControlHeader,
  lines: readonly EvidenceLine[],
  reasons: { satisfied: string; finding: string; empty: { status: ControlStatus; reason: string } },
): ControlEvidence {
  const findings = lines.filter((line) => line.status === 'finding').length;
  const status: ControlStatus = findings > 0 ? 'finding' : lines.length > 0 ? 'satisfied' : reasons.empty.status;
  const reason = findings > 0 ? reasons.finding : lines.length > 0 ? reasons.satisfied : reasons.empty.reason;
  return { ...header, status, reason, count: lines.length, findings, lines };
}

/** A line of another control carried into a summary control (CSF), marked with where it comes from. */
const carried = (from: ControlEvidence): EvidenceLine[] =>
  from.lines.filter((line) => line.status === 'finding').map((line) => ({ ...line, text: `[${from.id}] ${line.text}` }));

/**
 * The evidence pack for a period, judged at `now` from everything the log holds (facts before the period matter:
 * a grant created earlier, an identity upserted earlier). Pure: the same log, period and instant give the same pack.
 */
export function buildEvidencePack(log: EvidenceLog, options: EvidencePackOptions): EvidencePack {
  const parameters: EvidenceParameters = { ...DEFAULT_EVIDENCE_PARAMETERS, ...options.parameters };
  const tolerance = durationOf('removalTolerance', parameters.removalTolerance);
  const standingAfter = durationOf('standingPrivilegeAfter', parameters.standingPrivilegeAfter);
  const credentialMax = durationOf('credentialMaxLifetime', parameters.credentialMaxLifetime);
  const from = millis(options.period.from);
  const to = millis(options.period.to);
  const now = options.now.getTime();
  const overlaps = (start: number, end: number | undefined): boolean => start <= to && (end === undefined || end >= from);
  const within = (at: number): boolean => at >= from && at <= to;

  // ---- grants
  const grants: GrantView[] = [];
  for (const facts of log.grants.values()) {
    const created = facts.created;
    if (created === undefined) continue;
    grants.push({
      facts,
      grantId: facts.grantId,
      beneficiaryId: created.data.beneficiaryId,
      entitlementId: created.data.entitlementId,
      request: log.requests.get(created.data.requestId),
      createdAt: millis(created.link.time),
      expiresAt: millis(facts.activated?.data.expiresAt ?? created.data.expiresAt),
      endedAt: facts.revoked === undefined ? undefined : millis(facts.revoked.data.revokedAt),
      neverHeld: facts.activated === undefined && facts.terminalFailure !== undefined,
    });
  }
  grants.sort((a, b) => a.createdAt - b.createdAt || a.grantId.localeCompare(b.grantId));
  const grantsInPeriod = grants.filter((grant) => overlaps(grant.createdAt, grant.endedAt));
  const grantsOf = new Map<string, GrantView[]>();
  for (const grant of grants) {
    const held = grantsOf.get(grant.beneficiaryId);
    if (held === undefined) grantsOf.set(grant.beneficiaryId, [grant]);
    else held.push(grant);
  }
  const kindText = (identityId: string): string => log.kindOf(identityId) ?? 'kind unknown';
  const isNhi = (identityId: string): boolean => {
    const kind = log.kindOf(identityId);
    return kind !== undefined && kind !== 'human';
  };

  const endText = (grant: GrantView): string => {
    const { revoked, terminalFailure } = grant.facts;
    if (revoked !== undefined) return `removed ${revoked.data.revokedAt} (${revoked.data.reason})`;
    if (grant.neverHeld) return `never provisioned (${terminalFailure?.data.reason ?? 'failed'})`;
    return `active, expires ${iso(grant.expiresAt)}`;
  };

  // ---- AC-2: every grant with its request, decision, approval basis, provisioning and removal
  const approvalLinks = (request: RequestFacts | undefined): EventLink[] => {
    const basis = request?.approved?.data.basis.approvals ?? [];
    return basis.flatMap(
      (approval) =>
        request?.approvalDecisions
          .filter((decided) => decided.data.taskId === approval.taskId && decided.data.approverId === approval.approverId)
          .map((decided) => decided.link) ?? [],
    );
  };
  const ac2Lines = grantsInPeriod.map((grant) => {
    const { request } = grant;
    const submitted = request?.submitted;
    const decision = request?.decision;
    const approved = request?.approved;
    const breakGlass = request?.breakGlass;
    const missing = [
      submitted === undefined ? 'request' : undefined,
      decision === undefined ? 'policy decision' : undefined,
      approved === undefined && breakGlass === undefined ? 'approval' : undefined,
    ].filter((item): item is string => item !== undefined);
    const basis =
      breakGlass !== undefined
        ? `break-glass (incident ${breakGlass.data.incidentRef.system}:${breakGlass.data.incidentRef.id}, review due ${breakGlass.data.reviewDueAt})`
        : approved === undefined
          ? 'no approval on the log'
          : approved.data.basis.kind === 'auto_approved'
            ? 'auto-approved by policy'
            : `approved by ${approved.data.basis.approvals.map((approval) => `${approval.approverId} (${approval.stageId})`).join(', ')}`;
    const policy =
      decision === undefined
        ? 'no policy decision on the log'
        : `policy ${decision.data.effect} (bundle sha256:${decision.data.bundleDigest.slice(0, 12)}…, rules ${decision.data.matchedRules.join(', ') || 'none'})`;
    const text = [
      `${grant.entitlementId} for ${grant.beneficiaryId} (${kindText(grant.beneficiaryId)})`,
      submitted === undefined ? 'no request on the log' : `requested by ${submitted.data.requesterId}`,
      policy,
      basis,
      grant.facts.activated === undefined ? 'not provisioned' : `provisioned ${grant.facts.activated.data.activatedAt}`,
      endText(grant),
      ...(missing.length > 0 ? [`missing: ${missing.join(', ')}`] : []),
    ].join(' · ');
    return lineOf(missing.length > 0 ? 'finding' : 'ok', grant.grantId, text, [
      submitted?.link,
      decision?.link,
      ...approvalLinks(request),
      approved?.link,
      breakGlass?.link,
      grant.facts.created?.link,
      grant.facts.activated?.link,
      grant.facts.expiryTimer?.link,
      ...grant.facts.revocationsAsked.map((asked) => asked.link),
      ...(request?.removalsAsked.map((asked) => asked.link) ?? []),
      grant.facts.deprovisioningRequested?.link,
      grant.facts.revoked?.link,
    ]);
  });
  const ac2 = control(
    {
      id: 'AC-2',
      framework: NIST,
      title: 'Account Management',
      requirement:
        'Accounts are created, enabled, modified, disabled and removed with approvals by defined personnel, and access is authorized on a valid access authorization.',
      method:
        'Every grant that existed during the period, with its request, policy decision (bundle digest, rules), approval or auto-approval, provisioning and removal on the log.',
    },
    ac2Lines,
    {
      satisfied: `${ac2Lines.length} grants in the period, each with its request, policy decision and approval basis on the log.`,
      finding: 'Grants without a request, a policy decision or an approval on the log.',
      empty: { status: 'not_observable', reason: 'No grant existed during the period.' },
    },
  );

  // ---- AC-2(2): temporary accounts removed on time
  // A removal for expiry is an expiry that happened, even on a clock ahead of this one (a scheduler's test clock).
  const removedForExpiry = (grant: GrantView): boolean =>
    grant.facts.revoked?.data.reason === 'expiry' || grant.facts.revoked?.data.reason === 'break_glass_ttl';
  const due = grantsInPeriod.filter((grant) => !grant.neverHeld && (grant.expiresAt <= Math.min(to, now) || removedForExpiry(grant)));
  const notDue = grantsInPeriod.length - due.length;
  const ac22Lines = due.map((grant) => {
    const deadline = grant.expiresAt + tolerance;
    const { revoked } = grant.facts;
    let status: LineStatus;
    let verdict: string;
    if (revoked !== undefined && grant.endedAt !== undefined) {
      const late = grant.endedAt - grant.expiresAt;
      status = grant.endedAt <= deadline ? 'ok' : 'finding';
      verdict =
        late === 0
          ? `removed at expiry (${revoked.data.reason})`
          : late < 0
            ? `removed ${spanText(late)} before expiry (${revoked.data.reason})`
            : `removed ${spanText(late)} after expiry (${revoked.data.reason})${status === 'finding' ? ', beyond the tolerance' : ''}`;
    } else if (now > deadline) {
      status = 'finding';
      verdict = `still active ${spanText(now - grant.expiresAt)} after expiry`;
    } else {
      status = 'pending';
      verdict = 'expired, removal within the tolerance not yet confirmed';
    }
    return lineOf(status, grant.grantId, `${grant.entitlementId} for ${grant.beneficiaryId} expired ${iso(grant.expiresAt)}: ${verdict}`, [
      grant.facts.created?.link,
      grant.facts.activated?.link,
      grant.facts.expiryTimer?.link,
      grant.facts.deprovisioningRequested?.link,
      grant.facts.revoked?.link,
    ]);
  });
  const ac22 = control(
    {
      id: 'AC-2(2)',
      framework: NIST,
      title: 'Automated Temporary and Emergency Account Management',
      requirement: 'Temporary and emergency accounts are removed or disabled automatically after a defined time period.',
      method: `Every grant is temporary (the contract requires an expiry). Grants of the period whose expiry had passed: removed at or before expiry + ${parameters.removalTolerance}, or a finding (still active, or removed late).`,
    },
    ac22Lines,
    {
      satisfied: `${ac22Lines.length} grants expired in or before the period, each removed on time${notDue > 0 ? `; ${notDue} more expire later` : ''}.`,
      finding: 'Grants still active past their expiry, or removed beyond the tolerance.',
      empty: {
        status: 'not_observable',
        reason: grantsInPeriod.length === 0 ? 'No grant existed during the period.' : `No grant of the period had expired by its end (${notDue} expire later).`,
      },
    },
  );

  // ---- AC-2(3): disabled identities lose their access
  interface Episode {
    readonly identity: IdentityFacts;
    readonly status: IdentityStatus;
    readonly start: number;
    readonly end: number | undefined;
    readonly links: EventLink[];
    readonly reason: string | undefined;
    readonly ownedIdentityIds: readonly string[];
  }
  const episodes: Episode[] = [];
  for (const identity of log.identities.values()) {
    let open: Episode | undefined;
    for (const entry of identity.statuses) {
      const disabled = entry.status !== 'active';
      if (disabled && open === undefined) {
        open = {
          identity,
          status: entry.status,
          start: entry.at,
          end: undefined,
          links: [entry.link],
          reason: entry.reason,
          ownedIdentityIds: entry.ownedIdentityIds ?? [],
        };
      } else if (disabled && open !== undefined) {
        open.links.push(entry.link);
        if (entry.status === 'offboarded')
          open = {
            ...open,
            status: 'offboarded',
            reason: open.reason ?? entry.reason,
            ownedIdentityIds: [...open.ownedIdentityIds, ...(entry.ownedIdentityIds ?? [])],
          };
      } else if (!disabled && open !== undefined) {
        episodes.push({ ...open, end: entry.at });
        open = undefined;
      }
    }
    if (open !== undefined) episodes.push(open);
  }
  episodes.sort((a, b) => a.start - b.start);
  const ac23Lines = episodes
    .filter((episode) => overlaps(episode.start, episode.end))
    .map((episode) => {
      const id = episode.identity.identityId;
      const deadline = episode.start + tolerance;
      const mine = grantsOf.get(id) ?? [];
      const held = mine.filter(
        (grant) => !grant.neverHeld && grant.createdAt <= episode.start && (grant.endedAt === undefined || grant.endedAt > episode.start),
      );
      const grantedWhileDisabled = mine.filter((grant) => grant.createdAt > episode.start && grant.createdAt <= (episode.end ?? now));
      const verdicts = held.map((grant): { status: LineStatus; text: string } => {
        if (grant.endedAt !== undefined) {
          const after = grant.endedAt - episode.start;
          return {
            status: grant.endedAt <= deadline ? 'ok' : 'finding',
            text: `${grant.grantId} removed ${spanText(after)} after (${grant.facts.revoked?.data.reason ?? 'removed'})`,
          };
        }
        if (episode.end !== undefined && episode.end <= deadline) return { status: 'ok', text: `${grant.grantId} kept: reinstated within the tolerance` };
        if (now > deadline) return { status: 'finding', text: `${grant.grantId} still active ${spanText(now - episode.start)} after (access survived)` };
        return { status: 'pending', text: `${grant.grantId} not yet removed (within the tolerance)` };
      });
      for (const grant of grantedWhileDisabled) verdicts.push({ status: 'finding', text: `${grant.grantId} granted while ${episode.status}` });
      const what = `${episode.status}${episode.reason === undefined ? '' : ` (${episode.reason})`} at ${iso(episode.start)}${episode.end === undefined ? '' : `, reinstated ${iso(episode.end)}`}`;
      const text =
        verdicts.length === 0
          ? `${id} (${kindText(id)}) ${what}: held no grant`
          : `${id} (${kindText(id)}) ${what}: ${verdicts.map((verdict) => verdict.text).join('; ')}`;
      return lineOf(worst(verdicts.map((verdict) => verdict.status)), id, text, [
        ...episode.links,
        ...held.flatMap((grant) => [grant.facts.created?.link, grant.facts.revoked?.link]),
        ...grantedWhileDisabled.map((grant) => grant.facts.created?.link),
      ]);
    });
  const ac23 = control(
    {
      id: 'AC-2(3)',
      framework: NIST,
      title: 'Disable Accounts',
      requirement:
        'Accounts are disabled within a defined time period when they are no longer associated with a user, are in violation of policy, or have expired.',
      method: `Identities offboarded or suspended (on leave) during the period: each grant they held removed within ${parameters.removalTolerance}, none granted while disabled; access that survived is a finding.`,
    },
    ac23Lines,
    {
      satisfied: `${ac23Lines.length} identities disabled in the period; their access was removed on time.`,
      finding: 'Access of disabled identities survived the tolerance, or was granted while disabled.',
      empty: { status: 'not_observable', reason: 'No identity was offboarded or suspended during the period.' },
    },
  );

  // ---- AC-5: separation of duties
  const ownerAt = (identityId: string, at: number): string | undefined => {
    let owner: string | undefined;
    for (const entry of log.identities.get(identityId)?.owners ?? []) if (entry.at <= at) owner = entry.ownerId;
    return owner;
  };
  const ac5Lines: EvidenceLine[] = [];
  for (const request of log.requests.values()) {
    const submitted = request.submitted;
    for (const blocked of request.selfApprovalsBlocked) {
      if (!within(millis(blocked.link.time))) continue;
      ac5Lines.push(
        lineOf(
          'ok',
          request.requestId,
          `self-approval refused: ${blocked.data.attemptedById} (${blocked.data.relation}) on task ${blocked.data.taskId} of ${request.requestId}`,
          [submitted?.link, blocked.link],
        ),
      );
    }
    for (const decided of request.approvalDecisions) {
      const at = millis(decided.link.time);
      if (!within(at) || decided.data.decision !== 'approve') continue;
      const approver = decided.data.approverId;
      const relation =
        submitted === undefined
          ? undefined
          : approver === submitted.data.requesterId
            ? 'requester'
            : approver === submitted.data.subject.id
              ? 'beneficiary'
              : approver === ownerAt(submitted.data.subject.id, at)
                ? 'owner of record of the beneficiary'
                : undefined;
      const text =
        relation === undefined
          ? `${approver} approved task ${decided.data.taskId} of ${request.requestId}${submitted === undefined ? ' (request not on the log: relation not checked)' : ': neither requester, beneficiary nor its owner'}`
          : `${approver} approved task ${decided.data.taskId} of ${request.requestId} as its ${relation}: self-approval`;
      // An NHI's owner approving at the nhi_owner stage is the route, not a conflict: only the requester and the
      // beneficiary approving their own request are.
      const conflict = relation === 'requester' || relation === 'beneficiary';
      ac5Lines.push(lineOf(conflict ? 'finding' : 'ok', request.requestId, text, [submitted?.link, request.decision?.link, decided.link]));
    }
    const decision = request.decision;
    if (decision !== undefined && decision.data.sodConflicts.length > 0 && within(millis(decision.link.time))) {
      const conflicts = decision.data.sodConflicts.map((conflict) => `${conflict.policyId} (${conflict.entitlements.join(' + ')})`).join(', ');
      const autoGranted = decision.data.effect === 'auto_approve' || request.approved?.data.basis.kind === 'auto_approved';
      ac5Lines.push(
        lineOf(
          autoGranted ? 'finding' : 'ok',
          request.requestId,
          `SoD conflict ${conflicts} on ${request.requestId}: policy ${decision.data.effect}${autoGranted ? ', granted without review' : ''}${request.denied === undefined ? '' : `, denied (${request.denied.data.basis})`}`,
          [submitted?.link, decision.link, request.approved?.link, request.denied?.link],
        ),
      );
    }
  }
  ac5Lines.sort((a, b) => millis(a.links.at(-1)?.time ?? '') - millis(b.links.at(-1)?.time ?? ''));
  const ac5 = control(
    {
      id: 'AC-5',
      framework: NIST,
      title: 'Separation of Duties',
      requirement: 'Duties of individuals are identified, documented and separated; no one approves their own access.',
      method:
        'Self-approval attempts the approval service refused (iga.approval.self-approval-blocked), every approval of the period checked against the request (approver neither requester nor beneficiary), and SoD conflicts the policy decisions recorded (sodConflicts).',
    },
    ac5Lines,
    {
      satisfied:
        'Every approval of the period was given by someone other than the requester and the beneficiary; self-approval attempts were refused; recorded SoD conflicts were not auto-granted.',
      finding: 'A self-approval was recorded, or a request with an SoD conflict was granted without review.',
      empty: { status: 'not_observable', reason: 'No approval, self-approval attempt or SoD conflict was recorded during the period.' },
    },
  );

  // ---- AC-6: least privilege
  const unclassified = grantsInPeriod.filter((grant) => !log.entitlements.has(grant.entitlementId));
  const privileged = grantsInPeriod.filter((grant) => {
    const entry = log.entitlements.get(grant.entitlementId);
    return entry !== undefined && isPrivileged(entry.entitlement) && !grant.neverHeld;
  });
  const privilegedLine = (grant: GrantView): EvidenceLine => {
    const entry = log.entitlements.get(grant.entitlementId);
    const entitlementMax = entry === undefined ? undefined : isoDurationToMillis(entry.entitlement.maxDuration);
    const limit = Math.min(standingAfter, entitlementMax ?? standingAfter);
    const lifetime = grant.expiresAt - grant.createdAt;
    const overstayed = grant.endedAt === undefined && now > grant.expiresAt + tolerance;
    const standing = lifetime > limit || overstayed;
    const why =
      lifetime > limit
        ? `lifetime ${spanText(lifetime)} exceeds ${spanText(limit)}`
        : overstayed
          ? 'still active past its expiry'
          : `time-bound: ${spanText(lifetime)}`;
    return lineOf(
      standing ? 'finding' : 'ok',
      grant.grantId,
      `privileged ${grant.entitlementId} (${entry?.entitlement.environment ?? '?'}, ${entry?.entitlement.privileges.join('/') ?? '?'}) for ${grant.beneficiaryId} (${kindText(grant.beneficiaryId)}): ${standing ? 'standing privilege, ' : ''}${why} · ${endText(grant)}`,
      [entry?.link, grant.request?.decision?.link, grant.facts.created?.link, grant.facts.activated?.link, grant.facts.revoked?.link],
    );
  };
  const breakGlassLines = grantsInPeriod
    .filter((grant) => grant.facts.created?.data.breakGlass === true)
    .map((grant) => {
      const request = grant.request;
      const incident = request?.breakGlass?.data.incidentRef;
      const review = request?.reviewsOpened.find((opened) => opened.data.kind === 'break_glass_post_incident');
      return lineOf(
        'ok',
        grant.grantId,
        `break-glass ${grant.entitlementId} for ${grant.beneficiaryId}: incident ${incident === undefined ? '(not on the log)' : `${incident.system}:${incident.id}`}, justification "${request?.submitted?.data.justification ?? '(not on the log)'}" · ${endText(grant)}${review === undefined ? '' : ` · post-incident review ${review.data.reviewId} opened`}`,
        [request?.submitted?.link, request?.breakGlass?.link, grant.facts.created?.link, review?.link, grant.facts.revoked?.link],
      );
    });
  const ac6Lines = [...privileged.map(privilegedLine), ...breakGlassLines];
  const classified = grantsInPeriod.length - unclassified.length;
  const unclassifiedNote =
    unclassified.length === 0
      ? ''
      : ` ${unclassified.length} grants are of entitlements no catalogue on the log describes, so their privilege is not observable.`;
  const ac6 = control(
    {
      id: 'AC-6',
      framework: NIST,
      title: 'Least Privilege',
      requirement: 'Only the access necessary for assigned tasks is allowed; privileged access is not standing.',
      method: `Privileged grants (production write/admin, or critical sensitivity, per the catalogue on the log) held in the period: standing if their lifetime exceeds ${parameters.standingPrivilegeAfter} or their entitlement's maximum, or they outlive their expiry. Break-glass grants with their incident, justification and end.`,
    },
    ac6Lines,
    {
      satisfied: `${privileged.length} privileged grants in the period, none standing; ${breakGlassLines.length} break-glass grants.${unclassifiedNote}`,
      finding: `Standing privileged grants.${unclassifiedNote}`,
      empty:
        classified > 0
          ? { status: 'satisfied', reason: `${classified} grants in the period, none privileged: no standing privilege.${unclassifiedNote}` }
          : {
              status: 'not_observable',
              reason: grantsInPeriod.length === 0 ? 'No grant existed during the period.' : `No grant of the period could be classified.${unclassifiedNote}`,
            },
    },
  );

  // ---- NHI1: NHIs whose owner left
  const nhi1Lines: EvidenceLine[] = [];
  for (const episode of episodes) {
    if (episode.status !== 'offboarded' || episode.start > to) continue;
    const leaver = episode.identity.identityId;
    const owned = new Set(episode.ownedIdentityIds);
    for (const identity of log.identities.values())
      if (identity.kind !== 'human' && ownerAt(identity.identityId, episode.start) === leaver) owned.add(identity.identityId);
    for (const nhiId of [...owned].sort()) {
      const nhi = log.identities.get(nhiId);
      const transfer = nhi?.owners.find((entry) => entry.at >= episode.start && entry.ownerId !== leaver);
      const before = nhi?.statuses.filter((entry) => entry.at <= episode.start).at(-1);
      const disabled =
        before !== undefined && before.status !== 'active' ? before : nhi?.statuses.find((entry) => entry.at >= episode.start && entry.status !== 'active');
      const resolvedAt = Math.min(transfer?.at ?? Infinity, disabled?.at ?? Infinity);
      if (!(episode.start >= from || resolvedAt >= from)) continue;
      const active = (grantsOf.get(nhiId) ?? []).filter((grant) => !grant.neverHeld && grant.endedAt === undefined);
      const activeText = active.length === 0 ? 'no active grant' : `${active.length} active grants (${active.map((grant) => grant.grantId).join(', ')})`;
      const verdict =
        transfer !== undefined && (disabled === undefined || transfer.at <= disabled.at)
          ? `transferred to ${transfer.ownerId} ${spanText(transfer.at - episode.start)} after`
          : disabled !== undefined
            ? `disabled (${disabled.status}) at ${iso(disabled.at)}`
            : `neither transferred nor disabled; ${activeText}`;
      nhi1Lines.push(
        lineOf(
          Number.isFinite(resolvedAt) ? 'ok' : 'finding',
          nhiId,
          `${nhiId} (${kindText(nhiId)}) owned by ${leaver}, who was offboarded ${iso(episode.start)}: ${verdict}`,
          [
            nhi?.owners.find((entry) => entry.ownerId === leaver)?.link,
            episode.links[0],
            transfer?.link,
            disabled?.link,
            ...active.map((grant) => grant.facts.created?.link),
          ],
        ),
      );
    }
  }
  const nhi1 = control(
    {
      id: 'NHI1',
      framework: NHI,
      title: 'Improper Offboarding',
      requirement: 'Non-human identities that are no longer needed, or whose owner left, are deactivated or handed to a new accountable owner.',
      method:
        'Every NHI whose owner of record was offboarded (the leaver event or the NHI records): transferred to a new owner (owner-changed) or disabled, else a finding.',
    },
    nhi1Lines,
    {
      satisfied: 'Every NHI whose owner left was transferred or disabled.',
      finding: 'NHIs whose owner left and that were neither transferred nor disabled (orphaned).',
      empty: { status: 'not_observable', reason: 'No owner of a non-human identity was offboarded during the period.' },
    },
  );

  // ---- NHI5: privileged standing grants held by NHIs
  const nhiGrants = grantsInPeriod.filter((grant) => isNhi(grant.beneficiaryId));
  const nhi5Lines = privileged.filter((grant) => isNhi(grant.beneficiaryId)).map(privilegedLine);
  const nhi5 = control(
    {
      id: 'NHI5',
      framework: NHI,
      title: 'Overprivileged NHI',
      requirement: 'Non-human identities hold no more privilege than their function needs, and no standing privilege.',
      method: `The privileged grants of AC-6 held by non-human identities: standing (lifetime beyond ${parameters.standingPrivilegeAfter} or the entitlement's maximum, or past expiry) is a finding.`,
    },
    nhi5Lines,
    {
      satisfied: `${nhi5Lines.length} privileged grants held by NHIs in the period, all time-bound.`,
      finding: 'NHIs holding standing privileged grants.',
      empty:
        nhiGrants.length > 0
          ? { status: 'satisfied', reason: `${nhiGrants.length} grants held by NHIs in the period, none privileged.` }
          : { status: 'not_observable', reason: 'No non-human identity held a grant during the period.' },
    },
  );

  // ---- NHI7: long-lived secrets
  const nhi7Lines = log.credentials
    .filter((credential) => overlaps(millis(credential.data.issuedAt), millis(credential.data.expiresAt)))
    .map((credential) => {
      const grant = log.grants.get(credential.data.grantId);
      const decision = grant?.created === undefined ? undefined : log.requests.get(grant.created.data.requestId)?.decision;
      const policyMax = decision === undefined ? undefined : isoDurationToMillis(decision.data.constraints.maxDuration);
      const limit = policyMax ?? credentialMax;
      const lifetime = millis(credential.data.expiresAt) - millis(credential.data.issuedAt);
      const long = lifetime > limit;
      return lineOf(
        long ? 'finding' : 'ok',
        credential.data.credentialId,
        `${credential.data.credentialType} ${credential.data.credentialId} for ${grant?.created?.data.beneficiaryId ?? credential.data.grantId}: lifetime ${spanText(lifetime)}, ${long ? 'exceeds' : 'within'} ${policyMax === undefined ? `the default maximum ${parameters.credentialMaxLifetime}` : `the policy maximum ${decision?.data.constraints.maxDuration ?? ''}`} (fingerprint ${credential.data.fingerprint})`,
        [decision?.link, grant?.created?.link, credential.link],
      );
    });
  const nhi7 = control(
    {
      id: 'NHI7',
      framework: NHI,
      title: 'Long-Lived Secrets',
      requirement: 'Credentials of non-human identities are short-lived and rotated; none outlives what policy allows.',
      method: `Credentials issued or valid in the period (iga.grant.credential-issued): lifetime within the policy decision's maximum duration (else ${parameters.credentialMaxLifetime}).`,
    },
    nhi7Lines,
    {
      satisfied: `${nhi7Lines.length} credentials in the period, each within its policy's lifetime.`,
      finding: 'Credentials whose lifetime exceeds policy.',
      empty: { status: 'not_observable', reason: 'No credential was issued or valid during the period (no iga.grant.credential-issued event).' },
    },
  );

  // ---- NHI10: human use of NHI
  const nhiCredentials = nhi7Lines.filter((line) => {
    const credential = log.credentials.find((candidate) => candidate.data.credentialId === line.about);
    const beneficiary = credential === undefined ? undefined : log.grants.get(credential.data.grantId)?.created?.data.beneficiaryId;
    return beneficiary !== undefined && isNhi(beneficiary);
  }).length;
  const nhi10 = control(
    {
      id: 'NHI10',
      framework: NHI,
      title: 'Human Use of NHI',
      requirement: "A non-human identity's credentials are used by its workload, not by people.",
      method: "Would compare who retrieves an NHI's credential with its owner of record; needs an event recording credential retrieval.",
    },
    [],
    {
      satisfied: '',
      finding: '',
      empty: {
        status: 'not_observable',
        reason: `Not yet observable: no event on the log records the retrieval or use of a credential (iga.grant.credential-issued carries where the holder fetches it and its fingerprint, never who fetched it), so human use of an NHI credential cannot be shown or excluded. ${nhiCredentials} NHI credentials were issued or valid in the period.`,
      },
    },
  );

  // ---- NIST CSF 2.0: identities and credentials; permissions defined in policy, least privilege, SoD
  const identityLines: EvidenceLine[] = [];
  for (const identity of [...log.identities.values()].sort((a, b) => a.identityId.localeCompare(b.identityId))) {
    const inPeriod = identity.events.filter((link) => within(millis(link.time)));
    if (inPeriod.length === 0) continue;
    const status = identity.statuses.filter((entry) => entry.at <= to).at(-1)?.status ?? 'unknown';
    const owner = identity.kind !== undefined && identity.kind !== 'human' ? `, owner ${ownerAt(identity.identityId, to) ?? 'none'}` : '';
    const types = [...new Set(inPeriod.map((link) => link.type))].join(', ');
    identityLines.push(
      lineOf(
        'ok',
        identity.identityId,
        `${identity.identityId} (${identity.kind ?? 'kind unknown'}${owner}): ${status} at the end of the period; ${types}`,
        inPeriod,
      ),
    );
  }
  const credentialLines = nhi7Lines.filter((line) => line.status !== 'finding');
  const prAa01Lines = [...identityLines, ...credentialLines, ...carried(ac23), ...carried(nhi1), ...carried(nhi7)];
  const prAa01 = control(
    {
      id: 'PR.AA-01',
      framework: CSF,
      title: 'Identities and credentials for authorized users, services, and hardware are managed by the organization',
      requirement: 'Identities and credentials for authorized users, services, and hardware are managed by the organization.',
      method:
        'The identity lifecycle the authoritative sources recorded in the period (joiner, mover, leaver, owner of record) and the credentials issued, with the findings of AC-2(3), NHI1 and NHI7.',
    },
    prAa01Lines,
    {
      satisfied: `${identityLines.length} identities and ${credentialLines.length} credentials managed through the log in the period; AC-2(3), NHI1 and NHI7 raise no finding.`,
      finding: 'Findings of AC-2(3), NHI1 or NHI7 (carried here).',
      empty: { status: 'not_observable', reason: 'No identity or credential event in the period.' },
    },
  );
  const decisionLines: EvidenceLine[] = [];
  for (const request of log.requests.values()) {
    const decision = request.decision;
    if (decision === undefined || !within(millis(decision.link.time))) continue;
    const { data } = decision;
    decisionLines.push(
      lineOf(
        'ok',
        request.requestId,
        `${request.requestId}: policy ${data.effect} by bundle sha256:${data.bundleDigest.slice(0, 12)}…${data.engine === undefined ? '' : ` (${data.engine})`}, rules ${data.matchedRules.join(', ') || 'none'}, max ${data.constraints.maxDuration}, ${data.sodConflicts.length} SoD conflicts`,
        [request.submitted?.link, decision.link],
      ),
    );
  }
  decisionLines.sort((a, b) => millis(a.links.at(-1)?.time ?? '') - millis(b.links.at(-1)?.time ?? ''));
  const prAa05Lines = [...decisionLines, ...carried(ac2), ...carried(ac22), ...carried(ac5), ...carried(ac6)];
  const prAa05 = control(
    {
      id: 'PR.AA-05',
      framework: CSF,
      title: 'Access permissions, entitlements, and authorizations are defined in a policy, managed, enforced, and reviewed',
      requirement:
        'Access permissions, entitlements, and authorizations are defined in a policy, managed, enforced, and reviewed, and incorporate the principles of least privilege and separation of duties.',
      method: 'Every policy decision of the period (bundle digest, rules, constraints, SoD conflicts), with the findings of AC-2, AC-2(2), AC-5 and AC-6.',
    },
    prAa05Lines,
    {
      satisfied: `${decisionLines.length} access decisions of the period made by a recorded policy bundle; AC-2, AC-2(2), AC-5 and AC-6 raise no finding.`,
      finding: 'Findings of AC-2, AC-2(2), AC-5 or AC-6 (carried here).',
      empty: { status: 'not_observable', reason: 'No policy decision in the period.' },
    },
  );

  const controls = [ac2, ac22, ac23, ac5, ac6, prAa01, prAa05, nhi1, nhi5, nhi7, nhi10];
  return {
    kind: 'grantline.evidence-pack',
    version: 1,
    period: options.period,
    evaluatedAt: options.now.toISOString(),
    parameters,
    log: { source: options.source, topics: [...options.topics], events: log.events, through: log.through },
    summary: {
      satisfied: controls.filter((item) => item.status === 'satisfied').length,
      findings: controls.filter((item) => item.status === 'finding').length,
      notObservable: controls.filter((item) => item.status === 'not_observable').length,
    },
    controls,
  };
}
