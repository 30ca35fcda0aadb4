// Separation of duties: a toxic combination is a set of "sides"; an identity that holds something on
// every side holds a toxic combination. The same matcher serves the preventive check (at request time,
// over current + pending + requested) and the detective scan (over everything currently granted).
import type { EntitlementSelector } from './bundle.schema';
import type { Bundle, CompiledToxicCombination } from './bundle.types';
import type { SodConflict } from './decision.types';
import type { Environment, Privilege } from './input.schema';

export interface Holding {
  readonly entitlementId: string;
  readonly system: string;
  readonly privilege: Privilege;
  readonly environment: Environment;
}

const selects = (s: EntitlementSelector, h: Holding): boolean =>
  (s.entitlement === undefined || s.entitlement === h.entitlementId) &&
  (s.system === undefined || s.system === h.system) &&
  (s.privileges === undefined || s.privileges.includes(h.privilege)) &&
  (s.environment === undefined || s.environment === h.environment);

/** For each side, the sorted ids of holdings it selects; null when some side is empty (no conflict). */
export const matchCombination = (c: CompiledToxicCombination, holdings: readonly Holding[]): string[][] | null => {
  const sides: string[][] = [];
  for (const side of c.sides) {
    const ids = new Set<string>();
    for (const h of holdings) if (side.some((s) => selects(s, h))) ids.add(h.entitlementId);
    if (ids.size === 0) return null;
    sides.push([...ids].sort());
  }
  return sides;
};

export const toConflict = (c: CompiledToxicCombination, sides: string[][]): SodConflict => ({
  combinationId: c.id,
  description: c.description,
  mode: c.mode,
  effect: c.effect,
  sides,
});

export interface SodViolation {
  readonly identityId: string;
  readonly conflict: SodConflict;
}

/**
 * Detective control: every identity whose current grants already form a toxic combination, in a
 * stable order (identity id, then combination order in the bundle). Pure, so it can run over a
 * projection snapshot or a replayed log alike.
 */
export const scanSodViolations = (
  bundle: Bundle,
  grantsByIdentity: ReadonlyMap<string, readonly Holding[]> | Readonly<Record<string, readonly Holding[]>>,
): SodViolation[] => {
  const entries: [string, readonly Holding[]][] = grantsByIdentity instanceof Map ? [...grantsByIdentity.entries()] : Object.entries(grantsByIdentity);
  entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const out: SodViolation[] = [];
  for (const [identityId, holdings] of entries) {
    for (const c of bundle.toxicCombinations) {
      const sides = matchCombination(c, holdings);
      if (sides) out.push({ identityId, conflict: toConflict(c, sides) });
    }
  }
  return out;
};
