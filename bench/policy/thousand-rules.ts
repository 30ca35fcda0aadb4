// The generated 1,000-rule bundle the benchmark compiles (and compile-profile.ts takes apart).
import type { BundleFile } from '@grantline/policy-engine';

export const thousandRuleBundle = (): BundleFile[] => {
  const rules: string[] = [];
  const envs = ['prod', 'nonprod'];
  const privs = ['read', 'write', 'admin'];
  for (let i = 0; i < 1000; i++) {
    rules.push(
      `  - id: generated-${i}\n    match: { environments: [${envs[i % 2]}], privileges: [${privs[i % 3]}] }\n` +
        `    when: entitlement.system == "sys-${i}" && size(request.justification) > ${i % 7} && subject.kind in ["human", "service_account"]\n` +
        `    effect: ${i % 5 === 0 ? 'deny' : 'require_approval'}\n    reason: "generated rule ${i} for {{entitlement.system}}"\n` +
        (i % 5 === 0 ? '' : `    stages: [{ name: stage-${i % 4}, approvers: [manager] }]\n`),
    );
  }
  return [
    { path: 'bundle.yaml', content: 'kind: Bundle\nname: thousand\nversion: "1"\n' },
    { path: 'rules.yaml', content: `kind: RuleSet\nrules:\n${rules.join('')}` },
  ];
};
