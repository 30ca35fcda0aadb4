import type { Bundle } from '@grantline/policy-engine';

/** The policy input field the break-glass review facts (on the approvals log) become: `subject.openBreakGlassReviews`. */
export const OPEN_BREAK_GLASS_REVIEWS = 'openBreakGlassReviews';

/**
 * Whether a bundle reads the open break-glass reviews for requests that are not break-glass: then every decision
 * must wait until the approvals log is folded up to the request (the freshness fence, ADR 0019); otherwise only
 * break-glass requests must. The approvals log moves with every request, so fencing it for all of them made nearly
 * every decision read it once more (a consumer group joined per request: the lifecycle's slowest step). Decided from
 * the bundle's text: every mention of the field outside a full-line comment must be in a rule that matches
 * `emergency: true` (its condition or its reason); anything else — a rule for every request, a risk factor, the
 * escalation, a mention the compiled rules do not show — counts as reading it for every request (fail closed).
 */
export function readsBreakGlassReviewsBeyondBreakGlass(bundle: Pick<Bundle, 'files' | 'rules'>): boolean {
  const mentions = bundle.files.reduce(
    (sum, file) =>
      sum +
      file.content
        .split('\n')
        .filter((line) => !line.trimStart().startsWith('#'))
        .reduce((count, line) => count + occurrences(line, OPEN_BREAK_GLASS_REVIEWS), 0),
    0,
  );
  if (mentions === 0) return false;
  let inBreakGlassRules = 0;
  for (const rule of bundle.rules) {
    const inRule =
      occurrences(rule.whenSource ?? '', OPEN_BREAK_GLASS_REVIEWS) +
      rule.reason.filter((part) => typeof part !== 'string' && part.includes(OPEN_BREAK_GLASS_REVIEWS)).length;
    if (inRule === 0) continue;
    if (rule.match?.emergency !== true) return true;
    inBreakGlassRules += inRule;
  }
  return inBreakGlassRules !== mentions;
}

function occurrences(text: string, word: string): number {
  let count = 0;
  for (let at = text.indexOf(word); at >= 0; at = text.indexOf(word, at + word.length)) count += 1;
  return count;
}
