import type { ArgumentsHost } from '@nestjs/common';
import { DeniedAttempts, PROBLEMS, ProblemException, forbidden } from '@grantline/http-edge';
import type { DeniedAttemptRecord, Principal } from '@grantline/http-edge';
import { ScimErrorFilter, toScimError } from './scim-error.filter';
import { ScimError } from './scim.error';

const member: Principal = { subject: 'mallory', kind: 'person', roles: new Set(['member']), claims: {} };

function hostFor(request: object): { host: ArgumentsHost; sent: { status?: number; headers: Record<string, string>; body?: string } } {
  const sent: { status?: number; headers: Record<string, string>; body?: string } = { headers: {} };
  const response = {
    headersSent: false,
    status(code: number) {
      sent.status = code;
      return response;
    },
    setHeader(name: string, value: string) {
      sent.headers[name.toLowerCase()] = value;
    },
    send(body: string) {
      sent.body = body;
    },
  };
  const host = { switchToHttp: () => ({ getRequest: () => request, getResponse: () => response }) } as unknown as ArgumentsHost;
  return { host, sent };
}

describe('ScimErrorFilter', () => {
  it('answers RFC 7644 §3.12 error bodies, the status as a string, in application/scim+json', () => {
    const { host, sent } = hostFor({ method: 'POST', originalUrl: '/scim/v2/Users' });
    new ScimErrorFilter().catch(ScimError.uniqueness('userName bjensen is already provisioned'), host);
    expect(sent.status).toBe(409);
    expect(sent.headers['content-type']).toBe('application/scim+json');
    expect(JSON.parse(sent.body ?? '')).toEqual({
      schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
      status: '409',
      scimType: 'uniqueness',
      detail: 'userName bjensen is already provisioned',
    });
  });

  it('turns the edge problems into SCIM errors: 401 unauthenticated, 503 event log unavailable, 500 without the message', () => {
    expect(toScimError(ProblemException.of(PROBLEMS.unauthenticated, 'token expired'))).toEqual({
      schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
      status: '401',
      detail: 'token expired',
    });
    expect(toScimError(ProblemException.of({ slug: 'event-log-unavailable', title: 'x', status: 503 }, 'retry later'))).toMatchObject({
      status: '503',
      detail: 'retry later',
    });
    expect(toScimError(new Error('secret internals'))).toMatchObject({ status: '500', detail: 'An unexpected error occurred' });
  });

  it('records a refused attempt (AccessDenied) with its route, then answers 403 in SCIM form', async () => {
    const recorded: DeniedAttemptRecord[] = [];
    const attempts = new DeniedAttempts({ record: async (attempt) => void recorded.push(attempt) });
    const { host, sent } = hostFor({ method: 'POST', originalUrl: '/scim/v2/Users', route: { path: '/scim/v2/Users' } });
    new ScimErrorFilter(attempts).catch(forbidden(member, 'requires the identity-source role'), host);
    expect(sent.status).toBe(403);
    expect(JSON.parse(sent.body ?? '')).toMatchObject({ status: '403', detail: 'requires the identity-source role' });
    await Promise.resolve();
    expect(recorded).toEqual([expect.objectContaining({ principalId: 'mallory', operation: 'POST /scim/v2/Users', status: 403 })]);
  });
});
