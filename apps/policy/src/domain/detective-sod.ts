import {
  GrantCreated,
  GrantDriftDetected,
  GrantReconciliationCompleted,
  PolicySodScanCompleted,
  PolicySodViolationDetected,
  isEvent,
  sha256Hex,
} from '@grantline/contracts';
import type { Envelope, EventRegistry, Identity, SodScanCompletedData, SodViolationDetectedData } from '@grantline/contracts';
import { EventFactory } from '@grantline/decider';
import type { Decider, EventIdOf } from '@grantline/decider';
import { scanSodViolations } from '@grantline/policy-engine';
import type { Bundle, Holding } from '@grantline/policy-engine';
import { digestHex } from './decision-record.mapper';
import { POLICY_PRODUCER } from './policy.decider';
import { evolvePolicyState, initialPolicyState } from './policy.state';
import type { PolicyState } from './policy.state';
import { toEngineEntitlement } from './request-input.mapper';

/** The grants-topic facts detective SoD folds beside the policy state: accounts behind grants, and drift. */
export const SOD_FACT_EVENTS = [GrantCreated, GrantDriftDetected, GrantReconciliationCompleted] as const;

/** Access a target holds with no live grant behind it, as the latest reconciliation of its connector saw it. */
export interface UnmanagedAccess {
  readonly connectorId: string;
  readonly systemId: string;
  readonly targetAccount: string;
  readonly externalRef: string;
  readonly detectedAt: string;
}

export interface SodFacts {
  /** `<connectorId>\0<account>` → the identity Grantline provisioned that account for. */
  readonly accounts: Map<string, string>;
  /** `<connectorId>\0<account>\0<externalRef>` → the latest finding of access without a grant. */
  readonly unmanaged: Map<string, UnmanagedAccess>;
  /** connectorId → when its latest completed reconciliation observed the target. */
  readonly observedAt: Map<string, string>;
}

export const initialSodFacts = (): SodFacts => ({ accounts: new Map(), unmanaged: new Map(), observedAt: new Map() });

const key = (...parts: string[]): string => parts.join('\u0000');
const later = (a: string | undefined, b: string): boolean => a === undefined || Date.parse(b) > Date.parse(a);

/**
 * Folds one fact in place; a redelivered fact changes nothing. A finding of access present without a grant
 * (`unexpected_in_target`, `expired_but_present`) stays until a reconciliation of its connector observes the target
 * later without reporting it again: drift events carry no "resolved" fact, so a later completed reconciliation that
 * did not repeat the finding is what clears it (findings of one reconciliation share its `observedAt`).
 */
export function applySodFact(facts: SodFacts, event: Envelope): void {
  if (isEvent(event, GrantCreated)) {
    facts.accounts.set(key(event.data.connectorId, event.data.targetAccount), event.data.beneficiaryId);
  } else if (isEvent(event, GrantDriftDetected)) {
    const d = event.data;
    if (d.kind === 'missing_in_target') return;
    const findingKey = key(d.connectorId, d.targetAccount, d.externalRef);
    if (!later(facts.unmanaged.get(findingKey)?.detectedAt, d.detectedAt)) return;
    facts.unmanaged.set(findingKey, {
      connectorId: d.connectorId,
      systemId: d.systemId,
      targetAccount: d.targetAccount,
      externalRef: d.externalRef,
      detectedAt: d.detectedAt,
    });
  } else if (isEvent(event, GrantReconciliationCompleted)) {
    if (later(facts.observedAt.get(event.data.connectorId), event.data.observedAt)) facts.observedAt.set(event.data.connectorId, event.data.observedAt);
  }
}

/** Still open: not older than the latest reconciliation of its connector (a finding of that one has its `observedAt`). */
export const openUnmanagedAccess = (facts: SodFacts): UnmanagedAccess[] =>
  [...facts.unmanaged.values()].filter((finding) => {
    const observed = facts.observedAt.get(finding.connectorId);
    return observed === undefined || Date.parse(finding.detectedAt) >= Date.parse(observed);
  });

/** How the provisioning service names an identity's account when the identity does not (apps/provisioning target-account). */
const conventionalAccount = (identityId: string): string => identityId.toLowerCase().replace(/[^a-z0-9_]/g, '_');

/**
 * The identity behind an account on a target: the one Grantline provisioned it for, else the one whose record
 * names it (`account.<connectorId>` or `account`), else the one whose id gives it by the local convention. An
 * account nobody can be tied to (a shared or technical login) is no identity's holding.
 */
export const identityOfAccount = (connectorId: string, account: string, facts: SodFacts, identities: ReadonlyMap<string, Identity>): string | undefined => {
  const provisioned = facts.accounts.get(key(connectorId, account));
  if (provisioned !== undefined) return provisioned;
  const named = (identity: Identity): boolean =>
    [`account.${connectorId}`, 'account'].some((attribute) => {
      const value = identity.attributes[attribute];
      return typeof value === 'string' && value.trim() === account;
    });
  const sorted = [...identities.values()].sort((a, b) => (a.identityId < b.identityId ? -1 : 1));
  return (sorted.find(named) ?? sorted.find((identity) => conventionalAccount(identity.identityId) === account))?.identityId;
};

/** One thing an identity holds, and how: through a grant, or found on a target without one. */
export interface SourcedHolding extends Holding {
  readonly grantId?: string;
  readonly unmanaged: boolean;
}

/**
 * What each identity holds for detective SoD: its active grants, plus access found on targets without a grant
 * (mapped to catalogue entitlements by connector and external reference). Grants on entitlements gone from the
 * catalogue cannot be described and are left out, as at request time. Pure; ordered by identity, then entitlement.
 */
export function assembleHoldings(state: PolicyState, facts: SodFacts): Map<string, SourcedHolding[]> {
  const byIdentity = new Map<string, SourcedHolding[]>();
  const add = (identityId: string, holding: SourcedHolding): void => {
    byIdentity.set(identityId, [...(byIdentity.get(identityId) ?? []), holding]);
  };
  const catalog = state.catalog;
  if (catalog === undefined) return byIdentity;
  const holdingOf = (entitlementId: string): Holding | undefined => {
    const entitlement = catalog.entitlements.get(entitlementId);
    if (entitlement === undefined) return undefined;
    const engine = toEngineEntitlement(entitlement);
    return { entitlementId, system: engine.system, privilege: engine.privilege, environment: engine.environment };
  };
  for (const grant of state.grants.values()) {
    if (grant.status !== 'active') continue;
    const holding = holdingOf(grant.entitlementId);
    if (holding) add(grant.beneficiaryId, { ...holding, grantId: grant.grantId, unmanaged: false });
  }
  for (const finding of openUnmanagedAccess(facts)) {
    const identityId = identityOfAccount(finding.connectorId, finding.targetAccount, facts, state.identities);
    if (identityId === undefined) continue;
    const entitlementIds = [...catalog.entitlements.values()]
      .filter((e) => e.externalRef === finding.externalRef && catalog.systems.get(e.systemId)?.connectorId === finding.connectorId)
      .map((e) => e.entitlementId);
    for (const entitlementId of entitlementIds) {
      const holding = holdingOf(entitlementId);
      if (holding) add(identityId, { ...holding, unmanaged: true });
    }
  }
  for (const [identityId, holdings] of byIdentity) {
    byIdentity.set(
      identityId,
      holdings.sort((a, b) =>
        a.entitlementId < b.entitlementId ? -1 : a.entitlementId > b.entitlementId ? 1 : (a.grantId ?? '') < (b.grantId ?? '') ? -1 : 1,
      ),
    );
  }
  return byIdentity;
}

/** The same identity, combination and sides give the same id in every scan: a consumer opens one review per violation. */
export const violationIdOf = (identityId: string, combinationId: string, sides: readonly (readonly string[])[]): string =>
  `sodv-${sha256Hex(new TextEncoder().encode(JSON.stringify([identityId, combinationId, sides.map((side) => [...side].sort())]))).slice(0, 40)}`;

export type SodScanTrigger = SodViolationDetectedData['trigger'];

export interface SodScanCommand {
  readonly scanId: string;
  readonly trigger: SodScanTrigger;
  readonly requestedBy: string;
  readonly startedAt: string;
  readonly completedAt: string;
}

export interface SodScanResult {
  readonly violations: readonly SodViolationDetectedData[];
  readonly completed: SodScanCompletedData;
}

/** A detective scan over what every identity holds now: one violation per identity and toxic combination, then the summary. */
export function scanHoldings(bundle: Bundle, state: PolicyState, facts: SodFacts, command: SodScanCommand): SodScanResult {
  const holdings = assembleHoldings(state, facts);
  const bundleDigest = digestHex(bundle.digest);
  const violations = scanSodViolations(bundle, holdings).map(({ identityId, conflict }): SodViolationDetectedData => {
    const held = holdings.get(identityId) ?? [];
    const onSides = new Set(conflict.sides.flat());
    const involved = held.filter((holding) => onSides.has(holding.entitlementId));
    const granted = new Set(involved.filter((holding) => !holding.unmanaged).map((holding) => holding.entitlementId));
    return {
      violationId: violationIdOf(identityId, conflict.combinationId, conflict.sides),
      scanId: command.scanId,
      identityId,
      combinationId: conflict.combinationId,
      description: conflict.description,
      sides: conflict.sides.map((side) => [...side]),
      grantIds: [...new Set(involved.flatMap((holding) => (holding.grantId === undefined ? [] : [holding.grantId])))].sort(),
      unmanagedEntitlementIds: [
        ...new Set(involved.filter((holding) => holding.unmanaged && !granted.has(holding.entitlementId)).map((h) => h.entitlementId)),
      ].sort(),
      trigger: command.trigger,
      bundleDigest,
      detectedAt: command.completedAt,
    };
  });
  return {
    violations,
    completed: {
      scanId: command.scanId,
      trigger: command.trigger,
      requestedBy: command.requestedBy,
      bundleDigest,
      identitiesScanned: holdings.size,
      violations: violations.length,
      startedAt: command.startedAt,
      completedAt: command.completedAt,
    },
  };
}

/** The scan's events on the decisions topic: each violation keyed by its identity, the summary by the scan. */
export function sodScanEvents(result: SodScanResult, registry: EventRegistry, eventId: EventIdOf): Envelope[] {
  const events = new EventFactory(registry, POLICY_PRODUCER, eventId);
  const { scanId, completedAt } = result.completed;
  return [
    ...result.violations.map((violation) =>
      events.derive(PolicySodViolationDetected, violation, {
        idParts: ['sod-violation', scanId, violation.violationId],
        time: completedAt,
        subject: violation.identityId,
        correlationId: violation.violationId,
      }),
    ),
    events.derive(PolicySodScanCompleted, result.completed, {
      idParts: ['sod-scan-completed', scanId],
      time: completedAt,
      subject: scanId,
      correlationId: scanId,
    }),
  ];
}

/** What a scan reads: the policy state (identities, catalogue, grants) and the drift facts beside it. */
export interface SodScanState {
  readonly policy: PolicyState;
  readonly facts: SodFacts;
}

export interface SodScanContext {
  readonly bundle: Bundle;
  readonly registry: EventRegistry;
  readonly eventId: EventIdOf;
}

/**
 * The detective control as a decider: the facts fold into the state, a scan command decides the violations and the
 * summary. The service folds in place (its replay is large); this pure evolve copies, for specs and small folds.
 */
export function makeSodScanDecider({ bundle, registry, eventId }: SodScanContext): Decider<SodScanCommand, Envelope, SodScanState> {
  return {
    initialState: () => ({ policy: initialPolicyState(), facts: initialSodFacts() }),
    evolve: (state, event) => {
      const facts: SodFacts = {
        accounts: new Map(state.facts.accounts),
        unmanaged: new Map(state.facts.unmanaged),
        observedAt: new Map(state.facts.observedAt),
      };
      applySodFact(facts, event);
      return { policy: evolvePolicyState(state.policy, event), facts };
    },
    decide: (command, state) => sodScanEvents(scanHoldings(bundle, state.policy, state.facts, command), registry, eventId),
  };
}
