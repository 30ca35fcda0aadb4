// Validates the catalogue without starting anything (CI, pre-commit):
//   node -r @swc-node/register apps/intake/src/catalog/check-catalog.ts [dir]
// Prints the digest and counts, or every problem as `file:line:column path: message`; exits 1 on problems.
import { resolve } from 'node:path';
import { REPO_ROOT } from '../config/intake-config';
import { CatalogError, loadCatalogDirectory } from './catalog-file.schema';

const dir = resolve(process.argv[2] ?? process.env['CATALOG_DIR'] ?? resolve(REPO_ROOT, 'catalog'));
try {
  const catalog = loadCatalogDirectory(dir);
  process.stdout.write(
    `catalogue v${catalog.catalogVersion} ok: ${catalog.systems.length} systems, ${catalog.entitlements.length} entitlements, ` +
      `${catalog.accessPackages.length} access packages; digest ${catalog.digest}\n`,
  );
} catch (error) {
  process.stderr.write(`${error instanceof CatalogError ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
