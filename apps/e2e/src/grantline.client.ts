import type { HttpAnswer, Platform } from './platform.fixture';

/** The catalogue's group roles (catalog/entitlements.yaml externalRef) the scenarios use. */
export const GROUP_ROLES = {
  'orders-staging-read': 'grantline_app_read',
  'orders-prod-read': 'grantline_prod_read',
  'orders-prod-write': 'grantline_prod_write',
  'deploy-secrets-prod': 'grantline_prod_secrets',
} as const;

export interface SubmitAnswer {
  readonly requestId: string;
  readonly status: string;
  readonly eventId: string;
}

export interface IntakeRequestView {
  readonly requestId: string;
  readonly status: string;
  readonly grants: readonly { readonly grantId: string; readonly entitlementId: string; readonly state: string }[];
}

export interface ApprovalRequestView {
  readonly status: string;
  readonly tasks: readonly { readonly taskId: string; readonly status?: string; readonly stageId?: string; readonly eligibleApproverIds?: readonly string[] }[];
}

export interface GrantExplanation {
  readonly grantId: string;
  readonly requestId: string;
  readonly request?: { readonly requesterId: string; readonly justification: string; readonly subject: { readonly id: string } };
  readonly decision?: { readonly effect: string; readonly matchedRules: readonly string[]; readonly reasons: readonly string[]; readonly bundleDigest: string };
  readonly approvals: readonly { readonly approverId: string; readonly decision: string }[];
  readonly selfApprovalAttempts: readonly unknown[];
  readonly outcome?: { readonly kind: string };
  readonly grant: {
    readonly connectorId?: string;
    readonly targetAccount?: string;
    readonly createdAt?: string;
    readonly activatedAt?: string;
    readonly expiresAt?: string;
    readonly plannedExpiresAt?: string;
    readonly revokedAt?: string;
  };
  readonly ending?: { readonly reason: string; readonly at: string; readonly expiryTimerFiredAt?: string };
  readonly missing: readonly string[];
}

export interface AuditTimeline {
  readonly status: string;
  readonly entries: readonly { readonly eventId: string; readonly type: string; readonly actor: { readonly id: string }; readonly details: Readonly<Record<string, unknown>> }[];
}

export interface AuditDrift {
  readonly reportId: string;
  readonly observedAt: string;
  readonly findingsPending: number;
  readonly findings: readonly { readonly kind: string; readonly targetAccount: string; readonly grantId?: string }[];
}

export interface TestClock {
  readonly now: string;
}

function expectStatus<T>(answer: HttpAnswer<T>, status: number, what: string): T {
  if (answer.status !== status) throw new Error(`${what}: expected ${status}, got ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body;
}

/** The platform's HTTP APIs as the scenarios use them, acting as the holder of `token`. */
export class GrantlineClient {
  constructor(private readonly platform: Platform) {}

  async upsertHuman(token: string, id: string, managerId?: string): Promise<void> {
    const body = { kind: 'human', displayName: `E2E ${id}`, ...(managerId === undefined ? {} : { managerId }) };
    expectStatus(await this.platform.call('intake', 'PUT', `/v1/identities/${id}`, { token, body }), 202, `upsert identity ${id}`);
  }

  /** Any identity shape the intake accepts (a person, or an NHI with its owner of record). */
  async upsertIdentity(token: string, id: string, body: Record<string, unknown>): Promise<void> {
    expectStatus(await this.platform.call('intake', 'PUT', `/v1/identities/${id}`, { token, body }), 202, `upsert identity ${id}`);
  }

  submit(token: string, body: Record<string, unknown>): Promise<HttpAnswer<SubmitAnswer>> {
    return this.platform.call<SubmitAnswer>('intake', 'POST', '/v1/requests', { token, body });
  }

  /** Submits a request the intake must accept (202) and returns its id. */
  async submitOk(token: string, body: Record<string, unknown>): Promise<string> {
    const submitted = await this.submit(token, body);
    expect(submitted.status).toBe(202);
    return submitted.body.requestId;
  }

  async request(token: string, requestId: string): Promise<IntakeRequestView> {
    return expectStatus(await this.platform.call<IntakeRequestView>('intake', 'GET', `/v1/requests/${requestId}`, { token }), 200, `request ${requestId}`);
  }

  /**
   * The check that the intake reports the request in `status`, returning that view: for `eventually`, which the
   * spec calls with its own timeout (this fixture may not depend on the testing lib).
   */
  requestInStatus(token: string, requestId: string, status: string): () => Promise<IntakeRequestView> {
    return async () => {
      const current = await this.request(token, requestId);
      expect(current.status).toBe(status);
      return current;
    };
  }

  approvalRequest(token: string, requestId: string): Promise<HttpAnswer<ApprovalRequestView>> {
    return this.platform.call<ApprovalRequestView>('approval', 'GET', `/v1/approvals/requests/${encodeURIComponent(requestId)}`, { token });
  }

  decide(token: string, taskId: string, decision: 'approve' | 'deny', comment?: string): Promise<HttpAnswer<unknown>> {
    return this.platform.call('approval', 'POST', `/v1/approvals/tasks/${encodeURIComponent(taskId)}/decision`, {
      token,
      body: { decision, ...(comment === undefined ? {} : { comment }) },
    });
  }

  explain(grantId: string): Promise<HttpAnswer<GrantExplanation>> {
    return this.platform.call<GrantExplanation>('audit', 'GET', `/v1/audit/grants/${encodeURIComponent(grantId)}/explain`);
  }

  /** The check (for `eventually`) that the audit explains the grant as activated, returning that explanation. */
  grantActivated(grantId: string): () => Promise<GrantExplanation> {
    return async () => {
      const answer = await this.explain(grantId);
      expect(answer.status).toBe(200);
      expect(answer.body.grant.activatedAt).toBeDefined();
      return answer.body;
    };
  }

  /** The check (for `eventually`) that the audit explains the grant as ended for `reason`, returning that explanation. */
  grantEnded(grantId: string, reason: string): () => Promise<GrantExplanation> {
    return async () => {
      const answer = await this.explain(grantId);
      expect(answer.body.ending?.reason).toBe(reason);
      return answer.body;
    };
  }

  /** The drift open as the connector's latest completed reconciliation saw it. */
  drift(connectorId: string): Promise<HttpAnswer<AuditDrift>> {
    return this.platform.call<AuditDrift>('audit', 'GET', `/v1/audit/drift?connectorId=${encodeURIComponent(connectorId)}`);
  }

  timeline(requestId: string): Promise<HttpAnswer<AuditTimeline>> {
    return this.platform.call<AuditTimeline>('audit', 'GET', `/v1/audit/requests/${encodeURIComponent(requestId)}/timeline`);
  }

  /** Who has access: the audit's current grants of a subject or of an entitlement. */
  whoHasAccess(query: { subjectId?: string; entitlementId?: string; includeEnded?: boolean }): Promise<HttpAnswer<unknown>> {
    const params = new URLSearchParams();
    if (query.subjectId !== undefined) params.set('subjectId', query.subjectId);
    if (query.entitlementId !== undefined) params.set('entitlementId', query.entitlementId);
    if (query.includeEnded !== undefined) params.set('includeEnded', String(query.includeEnded));
    return this.platform.call('audit', 'GET', `/v1/audit/grants?${params.toString()}`);
  }

  async schedulerNow(): Promise<Date> {
    return new Date(expectStatus(await this.platform.call<TestClock>('scheduler', 'GET', '/v1/test-clock'), 200, 'test clock').now);
  }

  /**
   * Moves the scheduler's clock just past `instant` (never backwards). Only as far as needed: the offset is
   * resumed from the log by the next scheduler, and a short jump keeps later runs' clocks close to real time.
   */
  async advanceSchedulerPast(instant: Date): Promise<void> {
    const ms = Math.max(0, instant.getTime() - (await this.schedulerNow()).getTime() + 1_000);
    expectStatus(await this.platform.call('scheduler', 'POST', '/v1/test-clock/advance', { body: { ms } }), 200, 'advance test clock');
  }
}
