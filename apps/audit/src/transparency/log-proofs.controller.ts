import { Controller, Get, Inject, Param, Query, UseFilters, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import type { z } from 'zod';
import {
  BearerAuthGuard,
  PROBLEMS,
  ProblemDetailsFilter,
  ProblemException,
  ProblemResponses,
  RequireRoles,
  ZodQuery,
  ZodResponse,
  fieldErrorsOf,
  invalidInput,
} from '@grantline/http-edge';
import type { ViewOf } from '@grantline/http-edge';
import { RequireLoaded } from '@grantline/service-kit';
import { AUDIT_SIGNING } from './audit-signing.config';
import type { AuditSigning } from './audit-signing.config';
import { LogCheckpointer } from './log-checkpointer.service';
import { ConsistencyQuerySchema, InclusionQuerySchema, LogProofsService, ProofNotFound, TreeParamsSchema } from './log-proofs.service';
import type { ConsistencyProofView, InclusionProofView } from './log-proofs.service';
import { CheckpointListSchema, ConsistencyProofViewSchema, InclusionProofViewSchema, VerifierKeySchema } from './log-proofs.schema';

type CheckpointList = ViewOf<typeof CheckpointListSchema>;
const NOT_REBUILT = [503, 'The trees are not rebuilt yet, or the log was edited'] as const;

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
@ProblemResponses([401, 'No bearer token, or one that does not verify'], [403, 'Requires one of the roles auditor, security, admin'])
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
  @ZodResponse(200, VerifierKeySchema, 'The verifier key')
  key(): ViewOf<typeof VerifierKeySchema> {
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
  @ZodResponse(200, CheckpointListSchema, 'The latest checkpoint of each tree')
  @ProblemResponses(NOT_REBUILT)
  latest(): CheckpointList {
    return this.proofs.latestCheckpoints();
  }

  @Get('checkpoints/:topic/:partition')
  @RequireRoles(...LOG_READERS)
  @UseGuards(RequireLoaded(LogCheckpointer))
  @ApiOperation({ summary: 'Every signed checkpoint of one tree, smallest first' })
  @ApiParam({ name: 'topic', description: 'The logical topic, e.g. iga.requests.v1' })
  @ApiParam({ name: 'partition' })
  @ZodResponse(200, CheckpointListSchema, 'Every checkpoint of the tree, smallest first')
  @ProblemResponses([400, 'An invalid topic or partition'], [404, 'No checkpoint of this tree'], NOT_REBUILT)
  checkpoints(@Param('topic') topic: string, @Param('partition') partition: string): CheckpointList {
    const tree = parse(TreeParamsSchema, { topic, partition }, '(path)');
    return answer(() => this.proofs.checkpointsOf(tree.topic, tree.partition));
  }

  @Get('proofs/inclusion')
  @RequireRoles(...LOG_READERS)
  @UseGuards(RequireLoaded(LogCheckpointer))
  @ApiOperation({ summary: 'An RFC 9162 inclusion proof of one record against a signed checkpoint of its tree (default the latest)' })
  @ZodQuery(InclusionQuerySchema)
  @ZodResponse(200, InclusionProofViewSchema, 'The inclusion proof and the checkpoint it proves against')
  @ProblemResponses(
    [400, 'Neither eventId nor topic, partition and offset, both, or an invalid field'],
    [404, 'Unknown event or record, no checkpoint at that size, or the record is not covered by one yet'],
    NOT_REBUILT,
  )
  inclusion(@Query() query: Record<string, unknown>): InclusionProofView {
    const parsed = parse(InclusionQuerySchema, query, '(query)');
    return answer(() => this.proofs.inclusion(parsed));
  }

  @Get('proofs/consistency')
  @RequireRoles(...LOG_READERS)
  @UseGuards(RequireLoaded(LogCheckpointer))
  @ApiOperation({ summary: 'An RFC 9162 consistency proof between two sizes of one tree (to: a signed checkpoint, default the latest)' })
  @ZodQuery(ConsistencyQuerySchema)
  @ZodResponse(200, ConsistencyProofViewSchema, 'The consistency proof and the checkpoints at both sizes')
  @ProblemResponses([400, 'A missing or invalid field, or from > to'], [404, 'No checkpoint of this tree, or none at size to'], NOT_REBUILT)
  consistency(@Query() query: Record<string, unknown>): ConsistencyProofView {
    const parsed = parse(ConsistencyQuerySchema, query, '(query)');
    return answer(() => this.proofs.consistency(parsed));
  }
}
