import { Body, Controller, Headers, Param, Patch, Post, Put, Res, UseGuards } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { z } from 'zod';
import { IdSchema, IdentityUpsertedDataSchema, LIMITS } from '@grantline/contracts';
import type { Identity, IdentityOffboardedData, IdentityUpsertedData } from '@grantline/contracts';
import { actorOf } from '../authorization/actor';
import { IdempotentEndpoint } from '../http/idempotent-endpoint';
import {
  BearerAuthGuard,
  CurrentPrincipal,
  PROBLEMS,
  ProblemException,
  RequireRoles,
  concealed,
  fieldErrorsOf,
  forbidden,
  hasAnyRole,
  invalidInput,
} from '@grantline/http-edge';
import type { GrantlineRole, Principal } from '@grantline/http-edge';
import { attributesNotOwnedBy, keepOtherSourcesAttributes, withAttributes } from '../authorization/identity-authority';
import { AcceptOwnerTransfer, OffboardIdentity, ProposeOwnerTransfer, RecordIdentity, TakeOwnershipCase } from '../commands/intake-commands';
import { AttributesBodySchema } from './identity-attributes.schema';
import type { AttributesAccepted, IdentityAccepted, OffboardAccepted, TransferAccepted, TransferProposed } from '../http/intake-answers.schema';
import { ownershipTransferIdOf } from './leaver-cascade';
import { OwnershipCases } from './ownership-cases.store';
import type { OwnershipCaseView } from './ownership-cases.store';
import { OwnerTransfers } from './owner-transfers.store';
import { assertMayOwn } from './ownership-guardrail';

export const ProposeOwnerTransferBodySchema = z.strictObject({
  newOwnerId: IdSchema.describe('The person who is to become accountable for the machine identity.'),
  reason: z.string().trim().min(1).max(LIMITS.shortText),
});
export const AcceptOwnerTransferBodySchema = z.strictObject({ comment: z.string().trim().min(1).max(LIMITS.shortText).optional() });

/** A 403 naming each attribute the caller is not the authority for, and who is. */
function refuseForeignAttributes(principal: Principal, foreign: readonly { attribute: string; authority: string }[], identityId: string): void {
  if (foreign.length === 0) return;
  throw forbidden(principal, foreign.map((f) => `attribute ${f.attribute} comes from a ${f.authority} principal`).join('; '), `identity:${identityId}`);
}

import { OffboardBodySchema, parseBody } from '../requests/request-body.schema';
import { IdentityDirectory } from '../status/request-status.store';

interface ResponseLike {
  status(code: number): unknown;
  setHeader(name: string, value: string): unknown;
}

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);
const ID_PATTERN = /^\S{1,200}$/;

/**
 * Joiner / mover / leaver and owners of non-human identities. The facts here are what policy decides on, so they
 * come from their authority only: the identity source (HR / the IdP, also over SCIM), the on-call system for
 * `onCall`, an administrator for corrections — and a member may register a machine identity they own, nothing else.
 * This edge answers who may say what (403/404) before an Idempotency-Key is claimed; identity-command-handlers.ts
 * writes the facts.
 */
@Controller('v1/identities')
@UseGuards(BearerAuthGuard)
export class IdentitiesController {
  constructor(
    private readonly directory: IdentityDirectory,
    private readonly endpoint: IdempotentEndpoint,
    private readonly transfers: OwnerTransfers,
    private readonly cases: OwnershipCases,
    private readonly commands: CommandBus,
  ) {}

  /** Upserts a person (with a manager) or a non-human identity (with its owner of record). */
  @Put(':id')
  async upsert(
    @CurrentPrincipal() principal: Principal,
    @Param('id') identityId: string,
    @Body() body: unknown,
    @Headers('idempotency-key') key: string | undefined,
    @Res({ passthrough: true }) response: ResponseLike,
  ): Promise<unknown> {
    const source = hasAnyRole(principal, ['identity-source', 'admin']);
    const previous = ID_PATTERN.test(identityId) ? await this.directory.get(identityId) : undefined;
    if (!source) await this.assertMemberRegistersOwnNhi(principal, identityId, body, previous);
    if (!isObject(body)) throw invalidInput([{ field: '(body)', message: 'expected a JSON object' }]);
    const { sourceVersion, identityId: bodyId, ...identity } = body;
    if (bodyId !== undefined && bodyId !== identityId) throw invalidInput([{ field: 'identityId', message: 'must equal the id in the path' }]);
    const parsed = IdentityUpsertedDataSchema.safeParse({
      identity: { status: 'active', ...identity, identityId },
      ...(sourceVersion === undefined ? {} : { sourceVersion }),
    });
    if (!parsed.success) {
      // Report fields as the client wrote them: `ownerId`, not `identity.ownerId`; the path id as `id`.
      throw invalidInput(
        fieldErrorsOf(parsed.error).map((error) => ({
          ...error,
          field: error.field === 'identity.identityId' ? 'id' : error.field.replace(/^identity\./, ''),
        })),
      );
    }
    let recorded: Identity;
    if (source) {
      // An administrator correcting a record writes as the identity source would.
      const writer: GrantlineRole = 'identity-source';
      const foreign = attributesNotOwnedBy(parsed.data.identity.attributes, new Set([writer]));
      refuseForeignAttributes(principal, foreign, identityId);
      recorded = keepOtherSourcesAttributes(previous, parsed.data.identity, writer);
    } else {
      // The owner renames or re-describes their NHI; the facts its sources recorded stay.
      recorded = { ...parsed.data.identity, attributes: previous?.attributes ?? {} };
    }
    const data: IdentityUpsertedData = { ...parsed.data, identity: recorded };
    return this.endpoint.run({ principal, key, method: 'PUT', route: `/v1/identities/${identityId}`, body, response }, async (ids) => {
      const { eventId } = await this.commands.execute(new RecordIdentity(identityId, ids.id('identity-upserted'), actorOf(principal), data));
      const answer: IdentityAccepted = { identityId, kind: data.identity.kind, status: 'accepted', eventId };
      return { status: 202, body: answer };
    });
  }

  /**
   * Attributes owned by a source other than the identity source, such as `onCall` from the on-call system: each
   * attribute named must be owned by a role the caller holds. The rest of the record is kept as last published.
   */
  @Patch(':id/attributes')
  async patchAttributes(
    @CurrentPrincipal() principal: Principal,
    @Param('id') identityId: string,
    @Body() body: unknown,
    @Headers('idempotency-key') key: string | undefined,
    @Res({ passthrough: true }) response: ResponseLike,
  ): Promise<unknown> {
    if (!hasAnyRole(principal, ['identity-source', 'oncall-source']))
      throw forbidden(principal, 'requires a source of identity facts (identity-source, oncall-source)', `identity:${identityId}`);
    const named = isObject(body) && isObject(body['attributes']) ? body['attributes'] : {};
    const foreign = attributesNotOwnedBy(named, principal.roles);
    refuseForeignAttributes(principal, foreign, identityId);
    const parsed = parseBody(AttributesBodySchema, body);
    if (!parsed.ok) throw invalidInput(parsed.errors);
    if (!ID_PATTERN.test(identityId)) throw invalidInput([{ field: 'id', message: 'expected an id without whitespace' }]);
    const previous = await this.directory.get(identityId);
    if (previous === undefined) throw ProblemException.of(PROBLEMS.notFound, `No identity ${identityId}: its identity source records it first`);
    if (previous.status === 'offboarded')
      throw ProblemException.of({ slug: 'identity-offboarded', status: 409, title: 'The identity has left' }, `${identityId} is offboarded`);
    const identity: Identity = withAttributes(previous, parsed.value.attributes);
    return this.endpoint.run({ principal, key, method: 'PATCH', route: `/v1/identities/${identityId}/attributes`, body, response }, async (ids) => {
      const { eventId } = await this.commands.execute(new RecordIdentity(identityId, ids.id('identity-attributes'), actorOf(principal), { identity }));
      const answer: AttributesAccepted = { identityId, attributes: identity.attributes, status: 'accepted', eventId };
      return { status: 202, body: answer };
    });
  }

  /** A leaver (or a decommissioned machine identity): every grant it holds is to be revoked downstream. */
  @Post(':id/offboard')
  @RequireRoles('identity-source', 'admin')
  async offboard(
    @CurrentPrincipal() principal: Principal,
    @Param('id') identityId: string,
    @Body() body: unknown,
    @Headers('idempotency-key') key: string | undefined,
    @Res({ passthrough: true }) response: ResponseLike,
  ): Promise<unknown> {
    const parsed = parseBody(OffboardBodySchema, body);
    if (!parsed.ok) throw invalidInput(parsed.errors);
    if (!ID_PATTERN.test(identityId)) throw invalidInput([{ field: 'id', message: 'expected an id without whitespace' }]);
    return this.endpoint.run({ principal, key, method: 'POST', route: `/v1/identities/${identityId}/offboard`, body, response }, async (ids) => {
      const kind = (await this.directory.kindOf(identityId)) ?? parsed.value.kind;
      if (kind === undefined) throw invalidInput([{ field: 'kind', message: 'unknown identity: give its kind' }]);
      const { reason, effectiveAt } = parsed.value;
      const offboarding = { kind: kind as IdentityOffboardedData['kind'], reason, ...(effectiveAt === undefined ? {} : { effectiveAt }) };
      const { eventId, ownedIdentityIds } = await this.commands.execute(
        new OffboardIdentity(identityId, ids.id('identity-offboarded'), actorOf(principal), offboarding),
      );
      // The cases the intake opens for these NHIs once it reads the offboarding back (their ids derive from it).
      const ownershipTransfers = ownedIdentityIds.map((nhiId) => ({ identityId: nhiId, transferId: ownershipTransferIdOf(eventId, nhiId) }));
      const answer: OffboardAccepted = { identityId, status: 'offboarding', ownedIdentityIds, ownershipTransfers, eventId };
      return { status: 202, body: answer };
    });
  }

  /**
   * Proposes a new owner of record for a machine identity. Nobody becomes accountable for an NHI without accepting
   * it, so this only opens the transfer; the proposed owner's acceptance changes the owner.
   */
  @Post(':id/owner-transfers')
  async proposeOwnerTransfer(
    @CurrentPrincipal() principal: Principal,
    @Param('id') identityId: string,
    @Body() body: unknown,
    @Headers('idempotency-key') key: string | undefined,
    @Res({ passthrough: true }) response: ResponseLike,
  ): Promise<unknown> {
    const objectRef = `identity:${identityId}`;
    const currentOwnerId = ID_PATTERN.test(identityId) ? (await this.directory.responsibleFor(identityId)).ownerId : undefined;
    if (!hasAnyRole(principal, ['identity-source', 'admin'])) {
      const ownersManager = currentOwnerId === undefined ? undefined : (await this.directory.responsibleFor(currentOwnerId)).managerId;
      if (currentOwnerId === undefined || (principal.subject !== currentOwnerId && principal.subject !== ownersManager)) {
        throw forbidden(
          principal,
          "only the machine identity's owner of record, their manager, the identity source or an administrator may propose a new owner",
          objectRef,
        );
      }
    }
    const parsed = parseBody(ProposeOwnerTransferBodySchema, body);
    if (!parsed.ok) throw invalidInput(parsed.errors);
    const nhi = await this.directory.standing(identityId);
    if (nhi === undefined || currentOwnerId === undefined) throw ProblemException.of(PROBLEMS.notFound, `No machine identity ${identityId}`);
    const { newOwnerId, reason } = parsed.value;
    await assertMayOwn(this.directory, identityId, nhi, currentOwnerId, newOwnerId);
    return this.endpoint.run({ principal, key, method: 'POST', route: `/v1/identities/${identityId}/owner-transfers`, body, response }, async (ids) => {
      const transferId = `otr-${ids.id('owner-transfer-id')}`;
      const transfer = { transferId, currentOwnerId, proposedOwnerId: newOwnerId, reason };
      const { eventId } = await this.commands.execute(new ProposeOwnerTransfer(identityId, ids.id('owner-transfer-proposed'), actorOf(principal), transfer));
      const answer: TransferProposed = { transferId, identityId, proposedOwnerId: newOwnerId, status: 'proposed', eventId };
      return { status: 202, body: answer };
    });
  }

  /**
   * The proposed owner accepts: the owner of record changes (`iga.identity.owner-changed.v1`, reason `transfer`). For a
   * case opened because the owner left (`iga.identity.ownership-transfer-opened.v1`), someone it is assigned to (the
   * leaver's manager, or a holder of the fallback role) takes ownership instead: reason `owner_offboarded`.
   */
  @Post(':id/owner-transfers/:transferId/accept')
  async acceptOwnerTransfer(
    @CurrentPrincipal() principal: Principal,
    @Param('id') identityId: string,
    @Param('transferId') transferId: string,
    @Body() body: unknown,
    @Headers('idempotency-key') key: string | undefined,
    @Res({ passthrough: true }) response: ResponseLike,
  ): Promise<unknown> {
    const objectRef = `owner-transfer:${transferId}`;
    const transfer = ID_PATTERN.test(transferId) ? await this.transfers.get(transferId) : undefined;
    const unknown = `No ownership transfer ${transferId} of ${identityId}`;
    if (transfer === undefined) {
      const ownershipCase = ID_PATTERN.test(transferId) ? await this.cases.get(transferId) : undefined;
      if (ownershipCase !== undefined && ownershipCase.identityId === identityId) {
        return this.takeOwnershipCase(principal, ownershipCase, body, key, response);
      }
    }
    if (transfer === undefined || transfer.identityId !== identityId) throw concealed(principal, objectRef, unknown, 'unknown transfer');
    if (principal.subject !== transfer.proposedOwnerId) {
      if ([transfer.currentOwnerId, transfer.proposedBy].includes(principal.subject) || hasAnyRole(principal, ['identity-source', 'admin', 'security'])) {
        throw forbidden(principal, 'only the proposed owner may accept ownership of a machine identity', objectRef);
      }
      throw concealed(principal, objectRef, unknown, 'not a party to the transfer');
    }
    const parsed = parseBody(AcceptOwnerTransferBodySchema, body);
    if (!parsed.ok) throw invalidInput(parsed.errors);
    return this.endpoint.run(
      { principal, key, method: 'POST', route: `/v1/identities/${identityId}/owner-transfers/${transferId}/accept`, body, response },
      async (ids) => {
        const { eventId } = await this.commands.execute(
          new AcceptOwnerTransfer(identityId, transferId, ids.id('owner-changed'), actorOf(principal), transfer.currentOwnerId),
        );
        const answer: TransferAccepted = { transferId, identityId, ownerId: principal.subject, status: 'accepted', eventId };
        return { status: 202, body: answer };
      },
    );
  }

  private async takeOwnershipCase(
    principal: Principal,
    ownershipCase: OwnershipCaseView,
    body: unknown,
    key: string | undefined,
    response: ResponseLike,
  ): Promise<unknown> {
    const { identityId, transferId } = ownershipCase;
    const objectRef = `owner-transfer:${transferId}`;
    const assigned =
      ownershipCase.assigneeIds.includes(principal.subject) ||
      (ownershipCase.assigneeRole !== undefined && principal.roles.has(ownershipCase.assigneeRole as GrantlineRole));
    if (!assigned) {
      if (principal.subject === ownershipCase.previousOwnerId || hasAnyRole(principal, ['identity-source', 'admin', 'security'])) {
        throw forbidden(principal, 'only someone the ownership transfer case is assigned to may take ownership of the machine identity', objectRef);
      }
      throw concealed(principal, objectRef, `No ownership transfer ${transferId} of ${identityId}`, 'not a party to the transfer');
    }
    const parsed = parseBody(AcceptOwnerTransferBodySchema, body);
    if (!parsed.ok) throw invalidInput(parsed.errors);
    return this.endpoint.run(
      { principal, key, method: 'POST', route: `/v1/identities/${identityId}/owner-transfers/${transferId}/accept`, body, response },
      async (ids) => {
        const { eventId } = await this.commands.execute(new TakeOwnershipCase(identityId, transferId, ids.id('owner-changed'), actorOf(principal)));
        const answer: TransferAccepted = { transferId, identityId, ownerId: principal.subject, status: 'accepted', eventId };
        return { status: 202, body: answer };
      },
    );
  }

  /**
   * A member may register a machine identity they own (owner = themselves), or update one they already own, and
   * nothing else: no people, no one else's NHI, no attributes (scopes and other facts come from the identity source).
   */
  private async assertMemberRegistersOwnNhi(principal: Principal, identityId: string, body: unknown, previous: Identity | undefined): Promise<void> {
    const objectRef = `identity:${identityId}`;
    if (!principal.roles.has('member')) throw forbidden(principal, 'requires the identity-source or admin role', objectRef);
    const fields = isObject(body) ? body : {};
    if (fields['kind'] === 'human' || fields['kind'] === undefined)
      throw forbidden(principal, 'a member may register only a non-human identity they own; people come from the identity source', objectRef);
    if (fields['ownerId'] !== principal.subject)
      throw forbidden(principal, 'a member may register a non-human identity only with themselves as its owner (ownerId)', objectRef);
    if (isObject(fields['attributes']) && Object.keys(fields['attributes']).length > 0)
      throw forbidden(principal, 'attributes of an identity come from its identity source', objectRef);
    if (fields['status'] !== undefined && fields['status'] !== 'active')
      throw forbidden(principal, 'a member may not change the status of an identity', objectRef);
    const known = previous !== undefined || (await this.directory.kindOf(identityId)) !== undefined;
    if (!known) return;
    const responsible = await this.directory.responsibleFor(identityId);
    if (previous?.kind === 'human' || responsible.ownerId !== principal.subject || previous?.status === 'offboarded') {
      throw forbidden(principal, `${identityId} exists and is not a machine identity you own: changing its owner is a governed transfer`, objectRef);
    }
  }
}
