// Where does bundle compile time go? yaml parse vs zod vs CEL check/parse. Run with swc-node.
import { parseAllDocuments } from 'yaml';
import { Environment } from '@marcbachmann/cel-js';
import { bundleDocumentSchema } from '../../libs/policy-engine/src/bundle.schema';

const rules: string[] = [];
for (let i = 0; i < 1000; i++) rules.push(`  - id: g-${i}\n    when: entitlement.system == "sys-${i}" && size(request.justification) > ${i % 7}\n    effect: deny\n    reason: r\n`);
const text = `kind: RuleSet\nrules:\n${rules.join('')}`;
let t = performance.now();
const docs = parseAllDocuments(text);
const js = (Array.isArray(docs) ? docs[0]! : docs).toJS() as unknown;
console.log('yaml', (performance.now() - t).toFixed(1), 'ms');
t = performance.now();
bundleDocumentSchema.parse(js);
console.log('zod', (performance.now() - t).toFixed(1), 'ms');
const env = new Environment({ unlistedVariablesAreDyn: false });
for (const n of ['request', 'subject', 'requester', 'entitlement', 'entitlements', 'grants']) env.registerVariable(n, 'dyn');
t = performance.now();
for (let i = 0; i < 1000; i++) env.check(`entitlement.system == "sys-${i}" && size(request.justification) > ${i % 7}`);
console.log('cel check', (performance.now() - t).toFixed(1), 'ms');
t = performance.now();
for (let i = 0; i < 1000; i++) env.parse(`entitlement.system == "sys-${i}" && size(request.justification) > ${i % 7}`);
console.log('cel parse', (performance.now() - t).toFixed(1), 'ms');
