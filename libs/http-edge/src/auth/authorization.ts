import { SetMetadata } from '@nestjs/common';
import { PROBLEMS, ProblemException, problem } from '../problem/problem-details';
import type { Principal } from './jwt-verifier';
import type { GrantlineRole } from './roles';

/**
 * One refused governance action: who tried what on which object, and why it was refused. A 404 is a refusal that
 * does not reveal the object exists (a request the caller may not see answers exactly as an unknown one).
 */
export interface DeniedAttempt {
  readonly principal: Principal;
  readonly status: 403 | 404;
  /** Why, for the record (security reads it); the caller sees `detail` only. */
  readonly reason: string;
  /** `request:req-1`, `identity:alice`, `task:req-1:manager`; absent for an operation on no one object. */
  readonly objectRef?: string;
  /** `POST /v1/identities/:id/offboard`; filled in from the route when not given. */
  readonly operation?: string;
}

/** A refusal that is evidence: answered 403 or 404 like any problem, and recorded by the service (see DeniedAttempts). */
export class AccessDenied extends ProblemException {
  constructor(
    readonly attempt: DeniedAttempt,
    detail: string,
  ) {
    super(problem(attempt.status === 404 ? PROBLEMS.notFound : PROBLEMS.forbidden, detail));
  }
}

export const hasAnyRole = (principal: Principal, roles: readonly GrantlineRole[]): boolean => roles.some((role) => principal.roles.has(role));

const roleList = (roles: readonly GrantlineRole[]): string => (roles.length === 1 ? `the ${roles[0]} role` : `one of the roles ${roles.join(', ')}`);

/** 403: the caller may not do this at all, or not to this object. `reason` is shown and recorded. */
export function forbidden(principal: Principal, reason: string, objectRef?: string): AccessDenied {
  return new AccessDenied({ principal, status: 403, reason, ...(objectRef === undefined ? {} : { objectRef }) }, reason);
}

/**
 * 404: the caller may not know whether the object exists (BOLA). `detail` must be what an unknown object answers;
 * `reason` (recorded, never shown) says what the object is and why the caller may not see it.
 */
export function concealed(principal: Principal, objectRef: string, detail: string, reason: string): AccessDenied {
  return new AccessDenied({ principal, status: 404, reason, objectRef }, detail);
}

/** Throws 403 unless the caller holds one of `roles`. */
export function requireAnyRole(principal: Principal, roles: readonly GrantlineRole[], objectRef?: string): void {
  if (!hasAnyRole(principal, roles)) throw forbidden(principal, `requires ${roleList(roles)}`, objectRef);
}

export const REQUIRED_ROLES = 'grantline:required-roles';

/**
 * Function-level authorization (no BFLA): the route (or every route of the controller) needs one of these roles.
 * BearerAuthGuard checks it after authenticating; a refusal is a recorded 403.
 */
export const RequireRoles = (...roles: GrantlineRole[]): MethodDecorator & ClassDecorator => SetMetadata(REQUIRED_ROLES, roles);

/** What a service's sink receives: the attempt flattened, with how many were not recorded since the previous one. */
export interface DeniedAttemptRecord {
  readonly principalId: string;
  readonly principalKind: Principal['kind'];
  readonly roles: readonly GrantlineRole[];
  readonly operation: string;
  readonly objectRef?: string;
  readonly status: 403 | 404;
  readonly reason: string;
  readonly at: Date;
  /** Attempts by this principal refused but not recorded (rate limit) since its previous record. */
  readonly suppressedSincePrevious: number;
}

/** Where a service records refused attempts: an event on a topic it owns. */
export interface DeniedAttemptSink {
  record(attempt: DeniedAttemptRecord): Promise<void>;
}

export const DENIED_ATTEMPTS = Symbol('DENIED_ATTEMPTS');

export interface DeniedAttemptsOptions {
  /** Records per principal per window; the rest are counted and reported with the next record. */
  readonly perWindow?: number;
  readonly windowMs?: number;
  /** Principals tracked at once; the least recently seen is forgotten first. */
  readonly maxPrincipals?: number;
  readonly now?: () => Date;
  readonly onError?: (error: unknown) => void;
}

interface Window {
  startedAt: number;
  recorded: number;
  suppressed: number;
}

/**
 * Records refused attempts, rate-limited per principal: a caller hammering an endpoint cannot flood the log, and
 * nothing is lost silently (the next record carries the count of those not recorded). Recording never changes the
 * answer: a failure to record is reported to `onError`, and the caller still gets its 403/404.
 */
export class DeniedAttempts {
  private readonly windows = new Map<string, Window>();
  private readonly perWindow: number;
  private readonly windowMs: number;
  private readonly maxPrincipals: number;
  private readonly now: () => Date;

  constructor(
    private readonly sink: DeniedAttemptSink,
    private readonly options: DeniedAttemptsOptions = {},
  ) {
    this.perWindow = options.perWindow ?? 10;
    this.windowMs = options.windowMs ?? 60_000;
    this.maxPrincipals = options.maxPrincipals ?? 10_000;
    this.now = options.now ?? (() => new Date());
  }

  /** Resolves once recorded (or counted as suppressed); never rejects. */
  async note(attempt: DeniedAttempt & { readonly operation: string }): Promise<void> {
    const at = this.now();
    const key = attempt.principal.subject;
    let window = this.windows.get(key);
    if (window === undefined || at.getTime() - window.startedAt >= this.windowMs) {
      window = { startedAt: at.getTime(), recorded: 0, suppressed: window?.suppressed ?? 0 };
    }
    this.windows.delete(key);
    this.windows.set(key, window);
    if (this.windows.size > this.maxPrincipals) {
      const oldest = this.windows.keys().next().value;
      if (oldest !== undefined) this.windows.delete(oldest);
    }
    if (window.recorded >= this.perWindow) {
      window.suppressed += 1;
      return;
    }
    window.recorded += 1;
    const suppressed = window.suppressed;
    window.suppressed = 0;
    try {
      await this.sink.record({
        principalId: attempt.principal.subject,
        principalKind: attempt.principal.kind,
        roles: [...attempt.principal.roles].sort(),
        operation: attempt.operation,
        ...(attempt.objectRef === undefined ? {} : { objectRef: attempt.objectRef }),
        status: attempt.status,
        reason: attempt.reason,
        at,
        suppressedSincePrevious: suppressed,
      });
    } catch (error) {
      window.suppressed += suppressed + 1;
      this.options.onError?.(error);
    }
  }
}
