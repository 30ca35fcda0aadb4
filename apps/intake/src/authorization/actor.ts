import type { Actor } from '@grantline/contracts';
import type { Principal } from '@grantline/http-edge';

/** The actor of what a caller does, from the verified token only: a person is a user, a workload a service. */
export const actorOf = (principal: Principal): Actor => ({
  kind: principal.kind === 'workload' ? 'service' : 'user',
  id: principal.subject,
  ...(principal.name === undefined ? {} : { name: principal.name }),
});
