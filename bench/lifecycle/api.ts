import { randomUUID } from 'node:crypto';
import { ItsmRequestReceived, TOPICS, registry } from '@grantline/contracts';
import type { KafkaMessageBus } from '@grantline/messaging';
import type { BenchPlatform } from './platform';

/**
 * Auto-approved by policies/humans.yaml `human-low-nonprod-read` (a person, low sensitivity, nonprod, read) when the
 * person asks for themselves; the connector grants its externalRef group role (catalog/entitlements.yaml).
 */
export const ENTITLEMENT = 'orders-staging-read';
export const GROUP_ROLE = 'grantline_app_read';
// Ten characters or more: a shorter justification is a risk factor (policies/risk.yaml).
const JUSTIFICATION = 'benchmark: lifecycle throughput and latency run';
const DURATION = 'PT8H';

async function call(url: string, method: string, token: string, body: unknown, idempotent = false): Promise<{ status: number; text: string }> {
  const headers: Record<string, string> = { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json' };
  if (idempotent) headers['idempotency-key'] = randomUUID();
  const response = await fetch(url, { method, headers, body: JSON.stringify(body), signal: AbortSignal.timeout(120_000) });
  return { status: response.status, text: await response.text() };
}

function expect202(answer: { status: number; text: string }, what: string): void {
  if (answer.status !== 202) throw new Error(`${what}: ${answer.status} ${answer.text.slice(0, 300)}`);
}

/** The platform's intake as the bench drives it: identity source, people with their own tokens, an ITSM upstream. */
export class IntakeDriver {
  private readonly tokens = new Map<string, string>();
  private sourceToken?: string;

  constructor(
    private readonly platform: BenchPlatform,
    private readonly itsmBus: KafkaMessageBus,
  ) {}

  private get intake(): string {
    return this.platform.url('intake');
  }

  /** People as the HR feed records them (PUT /v1/identities/:id with an identity-source workload token), C at a time. */
  async registerPeople(ids: readonly string[], managerId: string, concurrency: number): Promise<void> {
    this.sourceToken ??= await this.platform.token(`bench_identity_source_${this.platform.runId}`, { roles: ['identity-source'], workload: true });
    const token = this.sourceToken;
    const upsert = async (id: string, manager?: string): Promise<void> => {
      const body = { kind: 'human', displayName: `Bench ${id}`, ...(manager === undefined ? {} : { managerId: manager }) };
      expect202(await call(`${this.intake}/v1/identities/${id}`, 'PUT', token, body), `register ${id}`);
    };
    await upsert(managerId);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < ids.length) await upsert(ids[next++] as string, managerId);
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    for (const id of ids) this.tokens.set(id, await this.platform.token(id));
  }

  private tokenOf(id: string): string {
    const token = this.tokens.get(id);
    if (token === undefined) throw new Error(`${id} was not registered`);
    return token;
  }

  /** POST /v1/requests by the beneficiary, with an Idempotency-Key as a well-behaved client sends one. */
  async submitHttp(id: string): Promise<void> {
    const body = { subject: { id, kind: 'human' }, entitlementIds: [ENTITLEMENT], justification: JUSTIFICATION, duration: DURATION };
    expect202(await call(`${this.intake}/v1/requests`, 'POST', this.tokenOf(id), body, true), `request for ${id}`);
  }

  /** A ticket on the inbound ITSM topic, as an ITSM bridge publishes it; "accepted" is the broker's acks=all. */
  async submitItsm(id: string): Promise<void> {
    const ticket = { system: 'other' as const, id: `BENCH-${id}` };
    const event = registry.encode(
      ItsmRequestReceived,
      { ticket, requesterId: id, subject: { id, kind: 'human' }, items: { entitlementIds: [ENTITLEMENT] }, justification: JUSTIFICATION, duration: DURATION },
      {
        id: randomUUID(),
        source: 'itsm/bench',
        time: new Date().toISOString(),
        subject: ticket.id,
        correlationid: ticket.id,
        actor: { kind: 'service', id: 'itsm-bridge-bench' },
      },
    );
    await this.itsmBus.publish(TOPICS.itsmInbound, [event]);
  }

  /** POST /v1/grants/:id/revoke by the beneficiary (a person may give up their own access). */
  async revoke(id: string, grantId: string): Promise<void> {
    const url = `${this.intake}/v1/grants/${encodeURIComponent(grantId)}/revoke`;
    expect202(await call(url, 'POST', this.tokenOf(id), { reason: 'benchmark: revocation latency run' }, true), `revoke ${grantId}`);
  }
}
