import type { Envelope } from '@grantline/contracts';

/** Where an event is on the log: logical topic (the catalogue's name, without a namespace), partition, offset. */
export interface LogPosition {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
}

/** A decoded event with its place on the log: what the fold reads. */
export interface PositionedEvent {
  readonly event: Envelope;
  readonly position: LogPosition;
}

/** The event that proves a line: its CloudEvent id and type, and where it is on the log. */
export interface EventLink extends LogPosition {
  readonly id: string;
  readonly type: string;
  readonly time: string;
}

/** satisfied: the log shows the control working; finding: the log shows it failing; not_observable: the log cannot tell. */
export type ControlStatus = 'satisfied' | 'finding' | 'not_observable';

/** ok: this item meets the control; finding: it does not; pending: its deadline (expiry + tolerance) has not passed yet. */
export type LineStatus = 'ok' | 'finding' | 'pending';

export type Framework = 'NIST SP 800-53 Rev. 5' | 'NIST CSF 2.0' | 'OWASP Non-Human Identities Top 10 (2025)';

export type ControlId = 'AC-2' | 'AC-2(2)' | 'AC-2(3)' | 'AC-5' | 'AC-6' | 'PR.AA-01' | 'PR.AA-05' | 'NHI1' | 'NHI5' | 'NHI7' | 'NHI10';

export interface EvidenceLine {
  readonly status: LineStatus;
  /** What the line is about: a grant id, an identity id, a request id, a credential id. */
  readonly about: string;
  readonly text: string;
  /** The events that prove the line, in the order the story reads. Never empty. */
  readonly links: readonly EventLink[];
}

export interface ControlEvidence {
  readonly id: ControlId;
  readonly framework: Framework;
  readonly title: string;
  /** What the control asks, in one sentence (paraphrased from the framework). */
  readonly requirement: string;
  /** How this pack checks it against the log. */
  readonly method: string;
  readonly status: ControlStatus;
  /** Why this status: for not_observable, what the log lacks. */
  readonly reason: string;
  /** Lines (items checked) in the period. */
  readonly count: number;
  readonly findings: number;
  readonly lines: readonly EvidenceLine[];
}

/** The thresholds the checks use, as ISO-8601 durations, stated in the pack so an auditor can judge them. */
export interface EvidenceParameters {
  /** How long after an expiry or a disablement the removal may complete (connector round trip, retries). */
  readonly removalTolerance: string;
  /** A privileged grant whose lifetime exceeds this (or its entitlement's maximum) is standing privilege. */
  readonly standingPrivilegeAfter: string;
  /** A credential whose lifetime exceeds this (when its grant's policy decision states no tighter maximum) is long-lived. */
  readonly credentialMaxLifetime: string;
}

export const DEFAULT_EVIDENCE_PARAMETERS: EvidenceParameters = {
  removalTolerance: 'PT15M',
  standingPrivilegeAfter: 'P7D',
  credentialMaxLifetime: 'P1D',
};

export interface EvidencePeriod {
  readonly from: string;
  readonly to: string;
}

export interface EvidencePack {
  readonly kind: 'grantline.evidence-pack';
  readonly version: 1;
  readonly period: EvidencePeriod;
  /** The instant the log was judged at: deadlines not passed by then are `pending`, not findings. */
  readonly evaluatedAt: string;
  readonly parameters: EvidenceParameters;
  /** What was read: every event from the beginning of these topics (facts before the period matter). */
  readonly log: {
    readonly source: string;
    readonly topics: readonly string[];
    readonly events: number;
    /** Per topic and partition, the last offset read. */
    readonly through: Readonly<Record<string, Readonly<Record<string, string>>>>;
  };
  readonly summary: { readonly satisfied: number; readonly findings: number; readonly notObservable: number };
  readonly controls: readonly ControlEvidence[];
}
