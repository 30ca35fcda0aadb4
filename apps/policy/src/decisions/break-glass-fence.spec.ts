import { resolve } from 'node:path';
import { loadBundleFromDirectory, loadBundleFromFiles } from '@grantline/policy-engine';
import { readsBreakGlassReviewsBeyondBreakGlass } from './break-glass-fence';

const MANIFEST = `kind: Bundle
name: fence-spec
version: "1"
settings:
  onDurationExceeded: deny
  stageOrder: [manager, resource_owner, security]
`;

const bundleOf = (rules: string, extra: Record<string, string> = {}) =>
  loadBundleFromFiles([
    { path: 'bundle.yaml', content: MANIFEST },
    { path: 'rules.yaml', content: `kind: RuleSet\nrules:\n${rules}` },
    ...Object.entries(extra).map(([path, content]) => ({ path, content })),
  ]);

const BREAK_GLASS_RULE = `
  # break-glass waits for the review of the last use (subject.openBreakGlassReviews)
  - id: unreviewed
    match: { emergency: true }
    when: has(subject.openBreakGlassReviews) && size(subject.openBreakGlassReviews) > 0
    effect: deny
    reason: "open review: {{subject.openBreakGlassReviews}}"
  - id: allow
    effect: auto_approve
    reason: allowed
`;

describe('readsBreakGlassReviewsBeyondBreakGlass', () => {
  it('given the shipped bundle, then only break-glass requests read the open reviews', () => {
    expect(readsBreakGlassReviewsBeyondBreakGlass(loadBundleFromDirectory(resolve(__dirname, '../../../../policies')))).toBe(false);
  });

  it('given rules that never mention the reviews, then no request reads them', () => {
    expect(readsBreakGlassReviewsBeyondBreakGlass(bundleOf('  - id: allow\n    effect: auto_approve\n    reason: allowed\n'))).toBe(false);
  });

  it('given the reviews read only by a rule matching emergency requests (comments aside), then only those read them', () => {
    expect(readsBreakGlassReviewsBeyondBreakGlass(bundleOf(BREAK_GLASS_RULE))).toBe(false);
  });

  it('given a rule for every request reading the reviews, then every request reads them', () => {
    const bundle = bundleOf(`${BREAK_GLASS_RULE}
  - id: reviews-first
    when: has(subject.openBreakGlassReviews)
    effect: deny
    reason: finish your reviews first
`);
    expect(readsBreakGlassReviewsBeyondBreakGlass(bundle)).toBe(true);
  });

  it('given a rule for every request naming the reviews in its reason only, then every request reads them', () => {
    const bundle = bundleOf(`  - id: tell
    effect: require_approval
    reason: "reviews open: {{subject.openBreakGlassReviews}}"
    stages: [{ name: manager, approvers: [manager] }]
`);
    expect(readsBreakGlassReviewsBeyondBreakGlass(bundle)).toBe(true);
  });

  it('given a risk factor reading the reviews, which the compiled rules do not show, then every request reads them (fail closed)', () => {
    const bundle = bundleOf(BREAK_GLASS_RULE, {
      'risk.yaml': `kind: RiskModel
factors:
  - id: unreviewed-breaker
    description: open reviews
    weight: 10
    when: has(subject.openBreakGlassReviews)
`,
    });
    expect(readsBreakGlassReviewsBeyondBreakGlass(bundle)).toBe(true);
  });
});
