import { z } from 'zod';
import { BUNDLE_FORMAT } from '@grantline/transparency';
import type { BundleManifest } from '@grantline/transparency';

const whole = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

/** manifest.json of an evidence bundle (format in libs/transparency/README.md). */
export const BundleManifestSchema = z
  .strictObject({
    format: z.literal(BUNDLE_FORMAT),
    createdAt: z.iso.datetime({ offset: true }),
    period: z.strictObject({ from: z.iso.datetime({ offset: true }).nullable(), to: z.iso.datetime({ offset: true }).nullable() }),
    clusterId: z.string().min(1),
    namespace: z.string().min(1).nullable(),
    verifierKeyName: z.string().regex(/^[^\s+]+$/),
    trees: z.array(
      z
        .strictObject({
          origin: z.string().min(1),
          topic: z.string().min(1),
          partition: whole,
          firstIndex: whole,
          lastIndex: whole.nullable(),
          lines: whole,
          checkpoints: whole,
          lastCheckpointSize: whole,
        })
        .refine((tree) => (tree.lastIndex === null ? tree.lines === 0 : tree.lastIndex - tree.firstIndex + 1 === tree.lines), {
          message: 'lines must equal lastIndex - firstIndex + 1 (lastIndex null when there are no lines)',
        }),
    ),
    files: z.array(z.strictObject({ name: z.string().min(1), bytes: whole, sha256: z.string().regex(/^[a-f0-9]{64}$/) })),
  })
  .refine((manifest) => new Set(manifest.trees.map((tree) => tree.origin)).size === manifest.trees.length, {
    message: 'a tree is listed twice',
    path: ['trees'],
  }) satisfies z.ZodType<BundleManifest>;

/** Parses manifest.json text; throws an Error naming the bad field. */
export function parseManifest(text: string): BundleManifest {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new Error(`manifest.json: not JSON (${(error as Error).message})`);
  }
  const parsed = BundleManifestSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`manifest.json: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return parsed.data;
}
