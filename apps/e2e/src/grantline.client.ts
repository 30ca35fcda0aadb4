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
  readonly entries: readonly {
    readonly eventId: string;
    readonly type: string;
    readonly actor: { readonly id: string };
    readonly details: Readonly<Record<string, unknown>>;
  }[];
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

/** The platform principals the scenarios act through besides the people in them. */
export type PlatformPrincipal = 'identity-source' | 'oncall-source' | 'auditor' | 'operator' | 'security';

/**
 * The platform's HTTP APIs as the scenarios use them. People act with their own tokens; identity facts come from the
 * identity source (an HR feed, a workload), on-call facts from the on-call system, audit reads are made as an auditor
 * and the test clock is moved by an operator — as in a real deployment, never by the people the facts describe.
 */
export class GrantlineClient {
  private readonly principals = new Map<PlatformPrincipal, Promise<string>>();

  constructor(private readonly platform: Platform) {}

  /** A token of one of the platform's own principals, minted once per client. */
  tokenOf(principal: PlatformPrincipal): Promise<string> {
    let token = this.principals.get(principal);
    if (token === undefined) {
      const id = `e2e_${principal.replace(/-/g, '_')}_${this.platform.runId}`;
      const workload = principal === 'identity-source' || principal === 'oncall-source';
      token = this.platform.tokens.mint(id, { roles: [principal], workload, ttlSeconds: 6 * 3_600 });
      this.principals.set(principal, token);
    }
    return token;
  }

  /** A person, recorded by the identity source. */
  async upsertHuman(id: string, managerId?: string, attributes?: Readonly<Record<string, string | number | boolean>>): Promise<void> {
    const body = {
      kind: 'human',
      displayName: `E2E ${id}`,
      ...(managerId === undefined ? {} : { managerId }),
      ...(attributes === undefined ? {} : { attributes }),
    };
    await this.upsertIdentity(id, body);
  }

  /** Any identity shape the intake accepts (a person, or an NHI with its owner of record), recorded by the identity source. */
  async upsertIdentity(id: string, body: Record<string, unknown>): Promise<void> {
    const token = await this.tokenOf('identity-source');
    expectStatus(await this.platform.call('intake', 'PUT', `/v1/identities/${id}`, { token, body }), 202, `upsert identity ${id}`);
  }

  /** Attributes owned by another source than the identity source (`onCall` by the on-call system). */
  async setAttributes(source: PlatformPrincipal, id: string, attributes: Readonly<Record<string, string | number | boolean | null>>): Promise<void> {
    const token = await this.tokenOf(source);
    expectStatus(await this.platform.call('intake', 'PATCH', `/v1/identities/${id}/attributes`, { token, body: { attributes } }), 202, `attributes of ${id}`);
  }

  submit(token: string, body: Record<string, unknown>, headers?: Readonly<Record<string, string>>): Promise<HttpAnswer<SubmitAnswer>> {
    return this.platform.call<SubmitAnswer>('intake', 'POST', '/v1/requests', { token, body, ...(headers === undefined ? {} : { headers }) });
  }

  /** Submits a request the intake must accept (202) and returns its id; `headers` e.g. a caller's W3C `traceparent`. */
  async submitOk(token: string, body: Record<string, unknown>, headers?: Readonly<Record<string, string>>): Promise<string> {
    const submitted = await this.submit(token, body, headers);
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

  async explain(grantId: string, token?: string): Promise<HttpAnswer<GrantExplanation>> {
    return this.platform.call<GrantExplanation>('audit', 'GET', `/v1/audit/grants/${encodeURIComponent(grantId)}/explain`, {
      token: token ?? (await this.tokenOf('auditor')),
    });
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
  async drift(connectorId: string): Promise<HttpAnswer<AuditDrift>> {
    return this.platform.call<AuditDrift>('audit', 'GET', `/v1/audit/drift?connectorId=${encodeURIComponent(connectorId)}`, {
      token: await this.tokenOf('auditor'),
    });
  }

  async timeline(requestId: string, token?: string): Promise<HttpAnswer<AuditTimeline>> {
    return this.platform.call<AuditTimeline>('audit', 'GET', `/v1/audit/requests/${encodeURIComponent(requestId)}/timeline`, {
      token: token ?? (await this.tokenOf('auditor')),
    });
  }

  /** The refused attempts the audit recorded for a principal (newest first). */
  async accessDenials(
    principalId: string,
  ): Promise<HttpAnswer<{ denials: readonly { service: string; operation: string; objectRef?: string; status: number; reason: string }[] }>> {
    return this.platform.call('audit', 'GET', `/v1/audit/access-denials?principalId=${encodeURIComponent(principalId)}`, {
      token: await this.tokenOf('auditor'),
    });
  }

  /** Who has access: the audit's current grants of a subject or of an entitlement. */
  async whoHasAccess(query: { subjectId?: string; entitlementId?: string; includeEnded?: boolean }, token?: string): Promise<HttpAnswer<unknown>> {
    const params = new URLSearchParams();
    if (query.subjectId !== undefined) params.set('subjectId', query.subjectId);
    if (query.entitlementId !== undefined) params.set('entitlementId', query.entitlementId);
    if (query.includeEnded !== undefined) params.set('includeEnded', String(query.includeEnded));
    return this.platform.call('audit', 'GET', `/v1/audit/grants?${params.toString()}`, { token: token ?? (await this.tokenOf('auditor')) });
  }

  async schedulerNow(): Promise<Date> {
    return new Date(
      expectStatus(await this.platform.call<TestClock>('scheduler', 'GET', '/v1/test-clock', { token: await this.tokenOf('operator') }), 200, 'test clock').now,
    );
  }

  /**
   * Moves the scheduler's clock just past `instant` (never backwards). Only as far as needed: the offset is
   * resumed from the log by the next scheduler, and a short jump keeps later runs' clocks close to real time.
   */
  async advanceSchedulerPast(instant: Date): Promise<void> {
    const ms = Math.max(0, instant.getTime() - (await this.schedulerNow()).getTime() + 1_000);
    expectStatus(
      await this.platform.call('scheduler', 'POST', '/v1/test-clock/advance', { token: await this.tokenOf('operator'), body: { ms } }),
      200,
      'advance test clock',
    );
  }
}
