import { z } from 'zod';
import { AttributesSchema, RequestChannelSchema, RequestItemsSchema, SubjectRefSchema, TicketRefSchema } from '@grantline/contracts';
import type { ViewOf } from '@grantline/http-edge';

// What the intake answers, as zod schemas: the controllers type their answers with these, and the OpenAPI document
// (docs/openapi.document.ts) is generated from them, so the two cannot drift apart.

const eventId = z.string().describe('The CloudEvent id of the recorded event');

export const SubmitAcceptedSchema = z.object({
  requestId: z.string(),
  status: z.literal('submitted'),
  eventId,
  links: z.object({ self: z.string().describe('Where the request can be read: GET /v1/requests/{id}') }),
});
export type SubmitAccepted = ViewOf<typeof SubmitAcceptedSchema>;

export const WithdrawAcceptedSchema = z.object({ requestId: z.string(), status: z.literal('withdrawal_requested'), eventId });
export type WithdrawAccepted = ViewOf<typeof WithdrawAcceptedSchema>;

export const RevokeAcceptedSchema = z.object({ revocationId: z.string(), grantId: z.string(), status: z.literal('revocation_requested'), eventId });
export type RevokeAccepted = ViewOf<typeof RevokeAcceptedSchema>;

export const IdentityAcceptedSchema = z.object({ identityId: z.string(), kind: z.string(), status: z.literal('accepted'), eventId });
export type IdentityAccepted = ViewOf<typeof IdentityAcceptedSchema>;

export const AttributesAcceptedSchema = z.object({
  identityId: z.string(),
  attributes: AttributesSchema.describe('Every attribute of the identity after the change'),
  status: z.literal('accepted'),
  eventId,
});
export type AttributesAccepted = ViewOf<typeof AttributesAcceptedSchema>;

export const OffboardAcceptedSchema = z.object({
  identityId: z.string(),
  status: z.literal('offboarding'),
  ownedIdentityIds: z.array(z.string()).describe('The machine identities it owned'),
  ownershipTransfers: z
    .array(z.object({ identityId: z.string(), transferId: z.string() }))
    .describe('The ownership case opened for each machine identity it owned'),
  eventId,
});
export type OffboardAccepted = ViewOf<typeof OffboardAcceptedSchema>;

export const TransferProposedSchema = z.object({
  transferId: z.string(),
  identityId: z.string(),
  proposedOwnerId: z.string(),
  status: z.literal('proposed'),
  eventId,
});
export type TransferProposed = ViewOf<typeof TransferProposedSchema>;

export const TransferAcceptedSchema = z.object({ transferId: z.string(), identityId: z.string(), ownerId: z.string(), status: z.literal('accepted'), eventId });
export type TransferAccepted = ViewOf<typeof TransferAcceptedSchema>;

/** One request as `GET /v1/requests/{id}` answers it: its status, grants and timeline. */
export const RequestStatusViewSchema = z.object({
  requestId: z.string(),
  status: z.enum(['submitted', 'pending_approval', 'approved', 'denied', 'withdrawn', 'provisioned', 'revoked', 'failed']),
  requesterId: z.string(),
  subject: SubjectRefSchema,
  items: RequestItemsSchema,
  channel: RequestChannelSchema,
  ticket: TicketRefSchema.optional(),
  submittedAt: z.iso.datetime({ offset: true }),
  grants: z.array(z.object({ grantId: z.string(), entitlementId: z.string(), state: z.enum(['pending', 'active', 'revoked', 'failed']) })),
  approverIds: z.array(z.string()).optional().describe('Everyone a task of this request was ever routed to or decided by: they may read it'),
  timeline: z.array(z.object({ eventId: z.string(), type: z.string(), at: z.iso.datetime({ offset: true }), actor: z.string(), summary: z.string() })),
});
export type RequestStatusAnswer = ViewOf<typeof RequestStatusViewSchema>;
