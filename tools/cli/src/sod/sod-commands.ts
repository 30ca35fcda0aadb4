// `grantline sod scan`: runs the detective separation-of-duties scan now, through the policy service's API. Not
// from the CLI itself: only the policy service may write the decisions topic (the broker enforces it), and the scan
// needs the state the service holds; the caller's token says who asked (`requestedBy`) and is checked there.
import type { Output } from '../output';

export const SOD_EXIT = { ok: 0, violations: 1, usage: 2, refused: 3 } as const;

export const DEFAULT_POLICY_URL = 'http://127.0.0.1:3102';

interface Violation {
  readonly violationId: string;
  readonly identityId: string;
  readonly combinationId: string;
  readonly sides: readonly (readonly string[])[];
  readonly grantIds: readonly string[];
  readonly unmanagedEntitlementIds: readonly string[];
}
interface ScanAnswer {
  readonly scan: { readonly scanId: string; readonly identitiesScanned: number; readonly violations: number; readonly bundleDigest: string };
  readonly violations: readonly Violation[];
}

export interface SodScanOptions {
  readonly url?: string;
  readonly json?: boolean;
}

/** The token from the environment, never from the command line (it would show in the process list and shell history). */
export const tokenOf = (env: NodeJS.ProcessEnv): string | undefined => env['GRANTLINE_TOKEN']?.trim() || undefined;

/**
 * POST /v1/sod/scans as the token's holder (security or admin). Exit 0 when the scan found nothing, 1 when it found
 * violations (each listed), 2 usage, 3 refused or failed (the service's answer is printed).
 */
export async function sodScan(options: SodScanOptions, token: string | undefined, io: Output, fetchImpl: typeof fetch = fetch): Promise<number> {
  if (token === undefined) {
    io.err('sod scan needs a bearer token in GRANTLINE_TOKEN (a security or admin principal)\n');
    return SOD_EXIT.usage;
  }
  const base = (options.url ?? DEFAULT_POLICY_URL).replace(/\/+$/, '');
  let response: Response;
  try {
    response = await fetchImpl(`${base}/v1/sod/scans`, { method: 'POST', headers: { authorization: `Bearer ${token}`, accept: 'application/json' } });
  } catch (error) {
    io.err(`sod scan: the policy service at ${base} cannot be reached: ${error instanceof Error ? error.message : String(error)}\n`);
    return SOD_EXIT.refused;
  }
  const text = await response.text();
  if (!response.ok) {
    io.err(`sod scan refused: ${response.status} ${text}\n`);
    return SOD_EXIT.refused;
  }
  const answer = JSON.parse(text) as ScanAnswer;
  if (options.json === true) io.out(`${text}\n`);
  else {
    io.out(
      `scan ${answer.scan.scanId}: ${answer.scan.identitiesScanned} identities, ${answer.scan.violations} violation(s) (bundle ${answer.scan.bundleDigest})\n`,
    );
    for (const v of answer.violations) {
      const unmanaged = v.unmanagedEntitlementIds.length > 0 ? `; on the target without a grant: ${v.unmanagedEntitlementIds.join(', ')}` : '';
      io.out(
        `  ${v.identityId}  ${v.combinationId}  ${v.sides.map((side) => side.join('|')).join(' + ')}  grants: ${v.grantIds.join(', ') || '-'}${unmanaged}  (${v.violationId})\n`,
      );
    }
  }
  return answer.violations.length > 0 ? SOD_EXIT.violations : SOD_EXIT.ok;
}
