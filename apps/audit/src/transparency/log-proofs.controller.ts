import { Controller, Get, Inject, Param, Query, UseFilters, UseGuards } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiQuery,
  ApiServiceUnavailableResponse,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import type { z } from 'zod';
import { BearerAuthGuard, PROBLEMS, ProblemDetailsFilter, ProblemException, RequireRoles, fieldErrorsOf, invalidInput } from '@grantline/http-edge';
import { RequireLoaded } from '@grantline/service-kit';
import { AUDIT_SIGNING } from './audit-signing.config';
import type { AuditSigning } from './audit-signing.config';
import { LogCheckpointer } from './log-checkpointer.service';
import { ConsistencyQuerySchema, InclusionQuerySchema, LogProofsService, ProofNotFound, TreeParamsSchema } from './log-proofs.service';
import type { CheckpointView, ConsistencyProofView, InclusionProofView } from './log-proofs.service';

/** Who may read the log's checkpoints and proofs: they hold hashes and record coordinates, never an event's content. */
const LOG_READERS = ['auditor', 'security', 'admin'] as const;

function parse<T extends z.ZodType>(schema: T, input: unknown, root: string): z.infer<T> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) throw invalidInput(fieldErrorsOf(parsed.error, { root }), PROBLEMS.invalidQuery);
  return parsed.data;
}

function answer<T>(work: () => T): T {
  try {
    return work();
  } catch (error) {
    if (error instanceof ProofNotFound) throw ProblemException.of(PROBLEMS.notFound, error.message);
    throw error;
  }
}

/**
 * The tamper evidence of the log (ADR 0016): the verifier key, the signed checkpoints of each partition's Merkle tree,
 * inclusion proofs of events and consistency proofs between two sizes of a tree. Role-only routes (auditor, security,
 * admin); authorization comes before validation. Until the trees are rebuilt — or while a tree no longer matches its
 * signed checkpoints (the log was edited) — the proof routes answer 503 naming why; the key is always served.
 */
@ApiTags('audit')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ description: 'No bearer token, or one that does not verify' })
@ApiForbiddenResponse({ description: 'Requires one of the roles auditor, security, admin' })
@Controller('v1/audit/log')
@UseGuards(BearerAuthGuard)
@UseFilters(ProblemDetailsFilter)
export class LogProofsController {
  constructor(
    private readonly proofs: LogProofsService,
    @Inject(AUDIT_SIGNING) private readonly signing: AuditSigning,
  ) {}

  @Get('key')
  @RequireRoles(...LOG_READERS)
  @ApiOperation({ summary: 'The public key that signs the checkpoints: C2SP verifier key and SPKI PEM' })
  @ApiOkResponse({ description: '{ keyName, keyId, vkey, publicKeyPem }' })
  key(): { keyName: string; keyId: string; vkey: string; publicKeyPem: string } {
    return {
      keyName: this.signing.keyName,
      keyId: this.signing.signer.keyId.toString('hex'),
      vkey: this.signing.vkey,
      publicKeyPem: this.signing.publicKeyPem,
    };
  }

  @Get('checkpoints')
  @RequireRoles(...LOG_READERS)
  @UseGuards(RequireLoaded(LogCheckpointer))
  @ApiOperation({ summary: 'The latest signed checkpoint of each tree (one tree per topic partition)' })
  @ApiOkResponse({ description: '{ checkpoints: [{ origin, topic, partition, treeSize, rootHash, lastOffset, note, signedAt }] }' })
  @ApiServiceUnavailableResponse({ description: 'The trees are not rebuilt yet, or the log was edited' })
  latest(): { checkpoints: CheckpointView[] } {
    return this.proofs.latestCheckpoints();
  }

  @Get('checkpoints/:topic/:partition')
  @RequireRoles(...LOG_READERS)
  @UseGuards(RequireLoaded(LogCheckpointer))
  @ApiOperation({ summary: 'Every signed checkpoint of one tree, smallest first' })
  @ApiParam({ name: 'topic', description: 'The logical topic, e.g. iga.requests.v1' })
  @ApiParam({ name: 'partition' })
  @ApiBadRequestResponse({ description: 'An invalid topic or partition' })
  @ApiNotFoundResponse({ description: 'No checkpoint of this tree' })
  @ApiServiceUnavailableResponse({ description: 'The trees are not rebuilt yet, or the log was edited' })
  checkpoints(@Param('topic') topic: string, @Param('partition') partition: string): { checkpoints: CheckpointView[] } {
    const tree = parse(TreeParamsSchema, { topic, partition }, '(path)');
    return answer(() => this.proofs.checkpointsOf(tree.topic, tree.partition));
  }

  @Get('proofs/inclusion')
  @RequireRoles(...LOG_READERS)
  @UseGuards(RequireLoaded(LogCheckpointer))
  @ApiOperation({ summary: 'An RFC 9162 inclusion proof of one record against a signed checkpoint of its tree (default the latest)' })
  @ApiQuery({ name: 'eventId', required: false, description: 'The CloudEvent id (or give topic, partition and offset)' })
  @ApiQuery({ name: 'topic', required: false })
  @ApiQuery({ name: 'partition', required: false })
  @ApiQuery({ name: 'offset', required: false })
  @ApiQuery({ name: 'treeSize', required: false, description: 'The size of a published checkpoint to prove against' })
  @ApiBadRequestResponse({ description: 'Neither eventId nor topic, partition and offset, both, or an invalid field' })
  @ApiNotFoundResponse({ description: 'Unknown event or record, no checkpoint at that size, or the record is not covered by one yet' })
  @ApiServiceUnavailableResponse({ description: 'The trees are not rebuilt yet, or the log was edited' })
  inclusion(@Query() query: Record<string, unknown>): InclusionProofView {
    const parsed = parse(InclusionQuerySchema, query, '(query)');
    return answer(() => this.proofs.inclusion(parsed));
  }

  @Get('proofs/consistency')
  @RequireRoles(...LOG_READERS)
  @UseGuards(RequireLoaded(LogCheckpointer))
  @ApiOperation({ summary: 'An RFC 9162 consistency proof between two sizes of one tree (to: a signed checkpoint, default the latest)' })
  @ApiQuery({ name: 'topic', required: true })
  @ApiQuery({ name: 'partition', required: true })
  @ApiQuery({ name: 'from', required: true, description: 'The older size (≥ 1)' })
  @ApiQuery({ name: 'to', required: false, description: 'The size of a published checkpoint (default the latest)' })
  @ApiBadRequestResponse({ description: 'A missing or invalid field, or from > to' })
  @ApiNotFoundResponse({ description: 'No checkpoint of this tree, or none at size to' })
  @ApiServiceUnavailableResponse({ description: 'The trees are not rebuilt yet, or the log was edited' })
  consistency(@Query() query: Record<string, unknown>): ConsistencyProofView {
    const parsed = parse(ConsistencyQuerySchema, query, '(query)');
    return answer(() => this.proofs.consistency(parsed));
  }
}
