import { createHash } from 'node:crypto';
import { ConnectorError } from './connector-error';
import type { ConnectorErrorClass, ConnectorErrorCode } from './connector-error';
import { accountDeactivationOperationSchema, connectorOperationSchema, credentialRequestSchema, rotationOperationSchema } from './connector-command.schema';
import type { ActualStateScope, Connector, ConnectorOperation, ConnectorOperationKind, IdempotencyKey, IssuedCredential, Membership } from './connector.types';
import type { IdempotencyStore } from './idempotency-store.port';
import { DEFAULT_RETRY_OPTIONS, runWithRetry } from './run-with-retry';
import type { RetryOptions, RetryOutcome } from './run-with-retry';
import type { SecretSink } from './secret-sink.port';
import type { Clock } from './time.port';
import { systemClock } from './time.port';

export interface FailedResult {
  status: 'failed';
  connectorId: string;
  idempotencyKey: string;
  errorClass: ConnectorErrorClass;
  code: ConnectorErrorCode;
  message: string;
  attempts: number;
  /** True when retriable errors used up every attempt; false for a terminal error. */
  exhausted: boolean;
  completedAt: string;
}

export interface OperationSucceeded {
  status: 'provisioned' | 'deprovisioned';
  connectorId: string;
  grantId: string;
  idempotencyKey: IdempotencyKey;
  account: string;
  entitlementRef: string;
  /** False when the target already was in the desired state. */
  changed: boolean;
  /** True when answered from the idempotency store without touching the target. */
  replayed: boolean;
  attempts: number;
  completedAt: string;
  /** Present when the command asked for a credential; never the secret. */
  credential?: IssuedCredentialView;
}

export interface IssuedCredentialView {
  credentialId: string;
  type?: string;
  account: string;
  secretRef: string;
  fingerprint: string;
  expiresAt: string;
}

export type OperationResult = OperationSucceeded | (FailedResult & { grantId?: string });

export interface CredentialIssuedResult {
  status: 'credential_issued';
  connectorId: string;
  idempotencyKey: IdempotencyKey;
  credential: IssuedCredentialView;
  replayed: boolean;
  attempts: number;
  completedAt: string;
}

export type CredentialResult = CredentialIssuedResult | FailedResult;

export interface ActualStateResult {
  status: 'actual_state';
  connectorId: string;
  memberships: Membership[];
  attempts: number;
  observedAt: string;
}

export type ActualStateReport = ActualStateResult | FailedResult;

export interface RotationSucceeded {
  status: 'rotated';
  connectorId: string;
  grantId: string;
  idempotencyKey: IdempotencyKey;
  account: string;
  /** Which rotation of the grant. */
  rotation: number;
  /** False when there was nothing to rotate (the account is gone). */
  changed: boolean;
  /** True when answered from the idempotency store without touching the target. */
  replayed: boolean;
  attempts: number;
  completedAt: string;
  /** A replacing rotation: the new credential (reference and fingerprint, never the secret). */
  credential?: IssuedCredentialView;
}

export type RotationResult = RotationSucceeded | (FailedResult & { grantId?: string });

export interface AccountDeactivationSucceeded {
  status: 'deactivated';
  connectorId: string;
  identityId: string;
  idempotencyKey: IdempotencyKey;
  account: string;
  /** False when the account was inactive already, or absent. */
  changed: boolean;
  /** True when answered from the idempotency store without touching the target. */
  replayed: boolean;
  attempts: number;
  completedAt: string;
}

export type AccountDeactivationResult = AccountDeactivationSucceeded | (FailedResult & { identityId?: string });

export interface ConnectorRunnerOptions {
  connector: Connector;
  idempotencyStore: IdempotencyStore;
  /** Required only for connectors that issue credentials. */
  secretSink?: SecretSink;
  clock?: Clock;
  retry?: Partial<RetryOptions>;
}

const STATUS_OF: Readonly<Record<ConnectorOperationKind, OperationSucceeded['status']>> = {
  provision: 'provisioned',
  deprovision: 'deprovisioned',
};

function hashOf(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex');
}

function keyOf(input: unknown, field: string): string {
  if (typeof input === 'object' && input !== null && field in input) {
    const value = (input as Record<string, unknown>)[field];
    if (typeof value === 'string') return value;
  }
  return '';
}

/**
 * The transport-free core of a connector service: command in, result out. The service's
 * Kafka adapter only parses the message, calls `handle`, and publishes what comes back;
 * everything that decides (validation, replay, retries, error mapping) lives here.
 */
export class ConnectorRunner {
  private readonly connector: Connector;
  private readonly store: IdempotencyStore;
  private readonly sink: SecretSink | undefined;
  /** Public so adapters stamp their own results with the same injected time. */
  readonly clock: Clock;
  private readonly retry: RetryOptions;
  // Two deliveries of one key racing inside this process share one target call.
  private readonly inFlight = new Map<string, Promise<unknown>>();

  constructor(options: ConnectorRunnerOptions) {
    this.connector = options.connector;
    this.store = options.idempotencyStore;
    this.sink = options.secretSink;
    this.clock = options.clock ?? systemClock;
    this.retry = { ...DEFAULT_RETRY_OPTIONS, ...options.retry };
  }

  get connectorId(): string {
    return this.connector.id;
  }

  handle(command: unknown): Promise<OperationResult> {
    const parsed = connectorOperationSchema.safeParse(command);
    if (!parsed.success) {
      return Promise.resolve(this.invalid(keyOf(command, 'idempotencyKey'), parsed.error.issues));
    }
    const op = parsed.data;
    if (op.credential && (!this.connector.issueCredential || !this.sink)) {
      const reason = this.sink ? `connector ${this.connector.id} cannot issue credentials` : 'no SecretSink configured';
      return Promise.resolve({ ...this.failed(op.idempotencyKey, this.terminal('invalid_request', reason)), grantId: op.grantId });
    }
    // expiresAt is left out on purpose: extending a grant re-sends the same key and must not conflict.
    const commandHash = hashOf([op.operation, op.account, op.entitlementRef, op.credential?.type ?? null]);
    return this.once(
      op.idempotencyKey,
      commandHash,
      (failed): OperationResult => failed,
      async () => {
        const outcome = await this.attempt(() => this.apply(op));
        if (!outcome.ok) return { ...this.failed(op.idempotencyKey, outcome), grantId: op.grantId };
        return {
          status: STATUS_OF[op.operation],
          connectorId: this.connector.id,
          grantId: op.grantId,
          idempotencyKey: op.idempotencyKey,
          account: op.account,
          entitlementRef: op.entitlementRef,
          changed: outcome.value.changed,
          replayed: false,
          attempts: outcome.attempts,
          completedAt: this.clock.now().toISOString(),
          ...(outcome.value.credential ? { credential: outcome.value.credential } : {}),
        };
      },
    );
  }

  private async apply(op: ConnectorOperation): Promise<{ changed: boolean; credential?: IssuedCredentialView }> {
    if (op.operation === 'deprovision') {
      const outcome = await this.connector.deprovision(op);
      // The grant's credentials (its first, id = grant id, and any rotation issued) must not be handed over once it is gone.
      if (this.connector.issueCredential && this.sink?.discardGrant) await this.sink.discardGrant(op.grantId);
      else if (this.connector.issueCredential && this.sink?.discard) await this.sink.discard(op.grantId);
      return outcome;
    }
    const issue = this.connector.issueCredential?.bind(this.connector);
    if (!op.credential || !issue || !this.sink) return this.connector.provision(op);
    const ttlEnd = this.clock.now().getTime() + op.credential.ttlSeconds * 1000;
    // A TTL of "the time the grant has left" is whole seconds counted when the command was written: within a second
    // of the grant's expiry it means the grant's expiry, exactly (a credential bound to a grant ends when it does).
    const grantEnd = op.expiresAt?.getTime();
    const expiresAt = new Date(grantEnd === undefined ? ttlEnd : ttlEnd >= grantEnd - 1000 ? grantEnd : ttlEnd);
    const issued = await issue(
      {
        // One credential per grant: a redelivered command names the same one, so the issuer can re-issue nothing.
        credentialId: op.grantId,
        idempotencyKey: `${op.grantId}:issue`,
        type: op.credential.type,
        grantId: op.grantId,
        holders: op.credential.holders ?? [],
        account: op.account,
        entitlementRefs: [op.entitlementRef],
        expiresAt,
      },
      this.sink,
    );
    return { changed: true, credential: { ...this.publicView(issued), type: op.credential.type } };
  }

  issueCredential(request: unknown): Promise<CredentialResult> {
    const parsed = credentialRequestSchema.safeParse(request);
    if (!parsed.success) {
      return Promise.resolve(this.invalid(keyOf(request, 'idempotencyKey'), parsed.error.issues));
    }
    const req = parsed.data;
    const issue = this.connector.issueCredential?.bind(this.connector);
    const sink = this.sink;
    if (!issue || !sink) {
      const reason = issue ? 'no SecretSink configured' : `connector ${this.connector.id} cannot issue credentials`;
      return Promise.resolve(this.failed(req.idempotencyKey, this.terminal('invalid_request', reason)));
    }
    const commandHash = hashOf([req.account, [...req.entitlementRefs].sort(), req.type, req.grantId]);
    return this.once(
      req.idempotencyKey,
      commandHash,
      (failed): CredentialResult => failed,
      async () => {
        const outcome = await this.attempt(() => issue(req, sink));
        if (!outcome.ok) return this.failed(req.idempotencyKey, outcome);
        return {
          status: 'credential_issued',
          connectorId: this.connector.id,
          idempotencyKey: req.idempotencyKey,
          credential: this.publicView(outcome.value),
          replayed: false,
          attempts: outcome.attempts,
          completedAt: this.clock.now().toISOString(),
        };
      },
    );
  }

  /**
   * Rotates what a grant used, once per (grant, rotation) (`rotationIdempotencyKeyOf`): a repeat is answered from the
   * idempotency store. With a `replacement` the connector issues the new credential into the sink and revokes the old
   * one; the secrets of what it revoked, if unretrieved, are erased. A connector without `rotateCredential` (or,
   * for a replacement, without `replaceCredential` or a sink) fails terminally (invalid_request): never silently lost.
   */
  rotate(command: unknown): Promise<RotationResult> {
    const parsed = rotationOperationSchema.safeParse(command);
    if (!parsed.success) return Promise.resolve(this.invalid(keyOf(command, 'idempotencyKey'), parsed.error.issues));
    const op = parsed.data;
    const rotate = this.connector.rotateCredential?.bind(this.connector);
    const refusal = !rotate
      ? `connector ${this.connector.id} cannot rotate credentials`
      : op.replacement && !this.connector.describe().replaceCredential
        ? `connector ${this.connector.id} cannot replace credentials`
        : op.replacement && !this.sink
          ? 'no SecretSink configured'
          : undefined;
    if (!rotate || refusal !== undefined) {
      return Promise.resolve({
        ...this.failed(op.idempotencyKey, this.terminal('invalid_request', refusal ?? 'cannot rotate')),
        grantId: op.grantId,
      });
    }
    const sink = this.sink;
    return this.once(
      op.idempotencyKey,
      // The first rotation keeps its v1 hash, so a store written before replacements existed still replays it.
      hashOf(op.replacement ? ['rotate', op.account, op.rotation, op.replacement.credentialId, op.replacement.type] : ['rotate', op.account]),
      (failed): RotationResult => ({ ...failed, grantId: op.grantId }),
      async () => {
        const outcome = await this.attempt(async () => {
          const rotated = await rotate(op, sink);
          // What was revoked must not be handed over any more (the former holder could still take an unretrieved one).
          if (sink?.discard) for (const credentialId of rotated.retired ?? []) await sink.discard(credentialId);
          return rotated;
        });
        if (!outcome.ok) return { ...this.failed(op.idempotencyKey, outcome), grantId: op.grantId };
        const { issued } = outcome.value;
        if (op.replacement && !issued) {
          return { ...this.failed(op.idempotencyKey, this.terminal('unknown', `connector ${this.connector.id} replaced nothing`)), grantId: op.grantId };
        }
        return {
          status: 'rotated',
          connectorId: this.connector.id,
          grantId: op.grantId,
          idempotencyKey: op.idempotencyKey,
          account: op.account,
          rotation: op.rotation ?? 1,
          changed: outcome.value.changed,
          replayed: false,
          attempts: outcome.attempts,
          completedAt: this.clock.now().toISOString(),
          ...(issued && op.replacement ? { credential: { ...this.publicView(issued), type: op.replacement.type } } : {}),
        };
      },
    );
  }

  /**
   * Deactivates a leaver's account, once per identity (`${identityId}:deactivate`): a repeat is answered from the
   * idempotency store. A connector without `deactivateAccount` fails terminally (invalid_request), so a catalogue that
   * asks too much of a connector is an alert, never a silent no-op.
   */
  deactivateAccount(command: unknown): Promise<AccountDeactivationResult> {
    const parsed = accountDeactivationOperationSchema.safeParse(command);
    if (!parsed.success) return Promise.resolve(this.invalid(keyOf(command, 'idempotencyKey'), parsed.error.issues));
    const op = parsed.data;
    const deactivate = this.connector.deactivateAccount?.bind(this.connector);
    if (!deactivate) {
      return Promise.resolve({
        ...this.failed(op.idempotencyKey, this.terminal('invalid_request', `connector ${this.connector.id} cannot deactivate accounts`)),
        identityId: op.identityId,
      });
    }
    return this.once(
      op.idempotencyKey,
      hashOf(['deactivate', op.account]),
      (failed): AccountDeactivationResult => ({ ...failed, identityId: op.identityId }),
      async () => {
        const outcome = await this.attempt(() => deactivate(op));
        if (!outcome.ok) return { ...this.failed(op.idempotencyKey, outcome), identityId: op.identityId };
        return {
          status: 'deactivated',
          connectorId: this.connector.id,
          identityId: op.identityId,
          idempotencyKey: op.idempotencyKey,
          account: op.account,
          changed: outcome.value.changed,
          replayed: false,
          attempts: outcome.attempts,
          completedAt: this.clock.now().toISOString(),
        };
      },
    );
  }

  /**
   * Actual state for reconciliation; never cached, it must reflect the target now. `observedAt` is read just
   * before the successful read starts: every change the target committed before that instant is in the answer,
   * so a comparison with operations completed before `observedAt` cannot mistake one in flight for drift.
   */
  async reportActualState(scope?: ActualStateScope): Promise<ActualStateReport> {
    let observedAt = this.clock.now().toISOString();
    const outcome = await this.attempt(() => {
      observedAt = this.clock.now().toISOString();
      return this.connector.listActualState(scope);
    });
    if (!outcome.ok) return this.failed('', outcome);
    return {
      status: 'actual_state',
      connectorId: this.connector.id,
      memberships: outcome.value.memberships,
      attempts: outcome.attempts,
      observedAt,
    };
  }

  private async once<R extends { status: string }>(
    key: IdempotencyKey,
    commandHash: string,
    fail: (failed: FailedResult) => R,
    run: () => Promise<R>,
  ): Promise<R> {
    const pending = this.inFlight.get(key);
    if (pending) return (await pending) as R;
    const work = this.replayOrRun(key, commandHash, fail, run);
    this.inFlight.set(key, work);
    try {
      return await work;
    } finally {
      this.inFlight.delete(key);
    }
  }

  private async replayOrRun<R extends { status: string }>(
    key: IdempotencyKey,
    commandHash: string,
    fail: (failed: FailedResult) => R,
    run: () => Promise<R>,
  ): Promise<R> {
    const recorded = await this.store.get(key);
    if (recorded) {
      if (recorded.commandHash !== commandHash) {
        const message = `idempotency key ${key} was already used for a different command`;
        return fail(this.failed(key, this.terminal('conflict', message)));
      }
      return { ...(recorded.result as R), replayed: true };
    }
    const result = await run();
    // Failures are not recorded: the same key must be retryable after the cause is fixed.
    if (result.status !== 'failed') {
      await this.store.record(key, { commandHash, result, recordedAt: this.clock.now() });
    }
    return result;
  }

  private attempt<T>(fn: () => Promise<T>): Promise<RetryOutcome<T>> {
    return runWithRetry(fn, this.retry);
  }

  private publicView(credential: IssuedCredential): IssuedCredentialView {
    // Rebuilt field by field so a connector returning extra fields cannot leak a secret.
    return {
      credentialId: credential.credentialId,
      account: credential.account,
      secretRef: credential.secretRef,
      fingerprint: credential.fingerprint,
      expiresAt: credential.expiresAt.toISOString(),
    };
  }

  private terminal(code: ConnectorErrorCode, message: string): Extract<RetryOutcome<never>, { ok: false }> {
    return { ok: false, error: new ConnectorError(code, message), attempts: 0, exhausted: false };
  }

  private invalid(key: string, issues: readonly { path: PropertyKey[]; message: string }[]): FailedResult {
    const message = issues.map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`).join('; ');
    return this.failed(key, this.terminal('invalid_request', `invalid command: ${message}`));
  }

  private failed(key: string, outcome: Extract<RetryOutcome<unknown>, { ok: false }>): FailedResult {
    return {
      status: 'failed',
      connectorId: this.connector.id,
      idempotencyKey: key,
      errorClass: outcome.error.errorClass,
      code: outcome.error.code,
      message: outcome.error.message,
      attempts: outcome.attempts,
      exhausted: outcome.exhausted,
      completedAt: this.clock.now().toISOString(),
    };
  }
}
