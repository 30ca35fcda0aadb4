import { Body, Controller, Headers, Logger, Param, Post, Put, Res, UseGuards } from '@nestjs/common';
import { IdentityOffboarded, IdentityUpserted, IdentityUpsertedDataSchema } from '@grantline/contracts';
import type { IdentityOffboardedData } from '@grantline/contracts';
import { IdempotentEndpoint } from '../http/idempotent-endpoint';
import { BearerAuthGuard, CurrentPrincipal, fieldErrorsOf, invalidInput } from '@grantline/http-edge';
import type { Principal } from '@grantline/http-edge';
import { IntakePublisher } from '../publishing/intake-publisher';
import { OffboardBodySchema, parseBody } from '../requests/request-body.schema';
import { IdentityDirectory } from '../status/request-status.store';

interface ResponseLike {
  status(code: number): unknown;
  setHeader(name: string, value: string): unknown;
}

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

/** Joiner / mover / leaver and owners of non-human identities. */
@Controller('v1/identities')
@UseGuards(BearerAuthGuard)
export class IdentitiesController {
  private readonly logger = new Logger('identities');

  constructor(
    private readonly publisher: IntakePublisher,
    private readonly directory: IdentityDirectory,
    private readonly endpoint: IdempotentEndpoint,
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
        fieldErrorsOf(parsed.error).map((error) => ({ ...error, field: error.field === 'identity.identityId' ? 'id' : error.field.replace(/^identity\./, '') })),
      );
    }
    const data = parsed.data;
    return this.endpoint.run({ principal, key, method: 'PUT', route: `/v1/identities/${identityId}`, body, response }, async (ids) => {
      const envelope = await this.publisher.publish({
        def: IdentityUpserted,
        data,
        id: ids.id('identity-upserted'),
        subject: identityId,
        correlationId: identityId,
        actor: { kind: 'user', id: principal.subject },
        time: new Date().toISOString(),
      });
      const recorded = data.identity;
      await this.afterPublish(envelope.id, () =>
        this.directory.remember({
          identityId,
          kind: recorded.kind,
          status: recorded.status,
          ...(recorded.kind === 'human' ? (recorded.managerId === undefined ? {} : { managerId: recorded.managerId }) : { ownerId: recorded.ownerId }),
        }),
      );
      return { status: 202, body: { identityId, kind: recorded.kind, status: 'accepted', eventId: envelope.id } };
    });
  }

  /** A leaver (or a decommissioned machine identity): every grant it holds is to be revoked downstream. */
  @Post(':id/offboard')
  async offboard(
    @CurrentPrincipal() principal: Principal,
    @Param('id') identityId: string,
    @Body() body: unknown,
    @Headers('idempotency-key') key: string | undefined,
    @Res({ passthrough: true }) response: ResponseLike,
  ): Promise<unknown> {
    const parsed = parseBody(OffboardBodySchema, body);
    if (!parsed.ok) throw invalidInput(parsed.errors);
    if (!/^\S{1,200}$/.test(identityId)) throw invalidInput([{ field: 'id', message: 'expected an id without whitespace' }]);
    return this.endpoint.run({ principal, key, method: 'POST', route: `/v1/identities/${identityId}/offboard`, body, response }, async (ids) => {
      const kind = (await this.directory.kindOf(identityId)) ?? parsed.value.kind;
      if (kind === undefined) throw invalidInput([{ field: 'kind', message: 'unknown identity: give its kind' }]);
      const now = new Date();
      const data: IdentityOffboardedData = {
        identityId,
        kind: kind as IdentityOffboardedData['kind'],
        effectiveAt: parsed.value.effectiveAt ?? now.toISOString(),
        reason: parsed.value.reason,
        ownedIdentityIds: await this.directory.ownedBy(identityId),
      };
      const envelope = await this.publisher.publish({
        def: IdentityOffboarded,
        data,
        id: ids.id('identity-offboarded'),
        subject: identityId,
        correlationId: identityId,
        actor: { kind: 'user', id: principal.subject },
        time: now.toISOString(),
      });
      await this.afterPublish(envelope.id, () => this.directory.markOffboarded(identityId));
      return { status: 202, body: { identityId, status: 'offboarding', ownedIdentityIds: data.ownedIdentityIds, eventId: envelope.id } };
    });
  }

  /** Once the event is acknowledged the answer is 202 whatever happens here: the consumer applies the same event. */
  private async afterPublish(eventId: string, work: () => Promise<void>): Promise<void> {
    try {
      await work();
    } catch (error) {
      this.logger.warn(`identity directory update deferred for ${eventId}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}
