import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

// OpenAPI descriptions of the query API's answers. The service returns plain read-model views; these classes
// exist so /docs shows their shape.

class ActorDto {
  @ApiProperty({ enum: ['user', 'service', 'system'] }) readonly kind!: string;
  @ApiProperty() readonly id!: string;
  @ApiPropertyOptional() readonly name?: string;
}

export class TimelineEntryDto {
  @ApiProperty() readonly eventId!: string;
  @ApiProperty({ example: 'iga.approval.decision-recorded.v1' }) readonly type!: string;
  @ApiProperty({ format: 'date-time' }) readonly at!: string;
  @ApiProperty({ type: ActorDto }) readonly actor!: ActorDto;
  @ApiProperty({ example: 'bob approved stage owner' }) readonly summary!: string;
  @ApiPropertyOptional() readonly grantId?: string;
  @ApiPropertyOptional() readonly taskId?: string;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'The fields an auditor filters on, per event type' })
  readonly details!: Record<string, unknown>;
}

export class RequestTimelineDto {
  @ApiProperty() readonly requestId!: string;
  @ApiProperty({ enum: ['unknown', 'submitted', 'pending_approval', 'approved', 'denied', 'withdrawn', 'provisioning', 'active', 'failed', 'ended'] })
  readonly status!: string;
  @ApiProperty({ type: [TimelineEntryDto], description: 'Every event of the request, ordered by time' })
  readonly entries!: TimelineEntryDto[];
}

export class GrantAccessDto {
  @ApiProperty() readonly grantId!: string;
  @ApiProperty({ enum: ['pending', 'active', 'failed', 'deprovisioning', 'revocation_failed', 'revoked'] }) readonly status!: string;
  @ApiPropertyOptional() readonly requestId?: string;
  @ApiPropertyOptional({ description: 'The identity holding the access' }) readonly subjectId?: string;
  @ApiPropertyOptional() readonly entitlementId?: string;
  @ApiPropertyOptional() readonly systemId?: string;
  @ApiPropertyOptional() readonly connectorId?: string;
  @ApiPropertyOptional() readonly targetAccount?: string;
  @ApiPropertyOptional() readonly breakGlass?: boolean;
  @ApiPropertyOptional({ format: 'date-time' }) readonly createdAt?: string;
  @ApiPropertyOptional({ format: 'date-time' }) readonly activatedAt?: string;
  @ApiPropertyOptional({ format: 'date-time' }) readonly expiresAt?: string;
  @ApiPropertyOptional({ format: 'date-time' }) readonly revokedAt?: string;
  @ApiPropertyOptional({ enum: ['expiry', 'withdrawal', 'revocation', 'offboarding', 'break_glass_ttl'] }) readonly revokeReason?: string;
}

export class GrantListDto {
  @ApiProperty({ type: [GrantAccessDto] }) readonly grants!: GrantAccessDto[];
}

class ExplainedRequestDto {
  @ApiProperty({ format: 'date-time' }) readonly submittedAt!: string;
  @ApiProperty({ type: ActorDto, description: 'The authenticated principal that submitted it' }) readonly submittedBy!: ActorDto;
  @ApiProperty() readonly requesterId!: string;
  @ApiProperty({ type: 'object', properties: { id: { type: 'string' }, kind: { type: 'string' } } }) readonly subject!: object;
  @ApiPropertyOptional({ type: [String] }) readonly entitlementIds?: string[];
  @ApiPropertyOptional() readonly accessPackageId?: string;
  @ApiProperty() readonly justification!: string;
  @ApiPropertyOptional({ type: 'object', properties: { system: { type: 'string' }, id: { type: 'string' }, url: { type: 'string' } } })
  readonly ticket?: object;
  @ApiPropertyOptional({ example: 'PT8H' }) readonly duration?: string;
  @ApiProperty() readonly breakGlass!: boolean;
  @ApiProperty({ enum: ['api', 'itsm', 'cli'] }) readonly channel!: string;
}

class ExplainedDecisionDto {
  @ApiProperty() readonly decisionId!: string;
  @ApiProperty({ format: 'date-time' }) readonly decidedAt!: string;
  @ApiProperty({ enum: ['deny', 'auto_approve', 'require_approval'] }) readonly effect!: string;
  @ApiProperty({ type: [String] }) readonly reasons!: string[];
  @ApiProperty({ type: [String] }) readonly matchedRules!: string[];
  @ApiProperty({ description: 'sha256 of the policy bundle that decided' }) readonly bundleDigest!: string;
  @ApiPropertyOptional() readonly engine?: string;
  @ApiProperty() readonly riskScore!: number;
  @ApiProperty({ type: 'object', additionalProperties: true }) readonly constraints!: object;
}

class ExplainedApprovalDto {
  @ApiProperty() readonly taskId!: string;
  @ApiProperty() readonly stageId!: string;
  @ApiProperty() readonly approverId!: string;
  @ApiPropertyOptional() readonly onBehalfOfId?: string;
  @ApiProperty({ enum: ['approve', 'deny'] }) readonly decision!: string;
  @ApiPropertyOptional() readonly comment?: string;
  @ApiProperty({ format: 'date-time' }) readonly decidedAt!: string;
}

class ExplainedGrantDto {
  @ApiProperty() readonly grantId!: string;
  @ApiPropertyOptional() readonly entitlementId?: string;
  @ApiPropertyOptional() readonly beneficiaryId?: string;
  @ApiPropertyOptional() readonly systemId?: string;
  @ApiPropertyOptional({ description: 'The connector that provisioned it' }) readonly connectorId?: string;
  @ApiPropertyOptional({ format: 'date-time' }) readonly provisioningRequestedAt?: string;
  @ApiPropertyOptional({ format: 'date-time' }) readonly activatedAt?: string;
  @ApiPropertyOptional({ format: 'date-time' }) readonly expiresAt?: string;
  @ApiPropertyOptional({ format: 'date-time' }) readonly revokedAt?: string;
  @ApiPropertyOptional() readonly revokeReason?: string;
}

class GrantEndingDto {
  @ApiProperty({ enum: ['expiry', 'withdrawal', 'revocation', 'offboarding', 'break_glass_ttl'] }) readonly reason!: string;
  @ApiProperty({ format: 'date-time' }) readonly at!: string;
  @ApiPropertyOptional() readonly requestedBy?: string;
  @ApiPropertyOptional() readonly requestReason?: string;
  @ApiPropertyOptional({ format: 'date-time' }) readonly expiryTimerFiredAt?: string;
}

export class GrantExplanationDto {
  @ApiProperty() readonly grantId!: string;
  @ApiProperty() readonly requestId!: string;
  @ApiPropertyOptional({ type: ExplainedRequestDto, description: 'Who asked, for whom, why, under which ticket' }) readonly request?: ExplainedRequestDto;
  @ApiPropertyOptional({ type: ExplainedDecisionDto, description: 'The policy decision with bundle digest, matched rules and reasons' })
  readonly decision?: ExplainedDecisionDto;
  @ApiProperty({ type: [ExplainedApprovalDto] }) readonly approvals!: ExplainedApprovalDto[];
  @ApiProperty({ type: 'array', items: { type: 'object' }, description: "Blocked attempts to approve one's own request" })
  readonly selfApprovalAttempts!: object[];
  @ApiPropertyOptional({ type: 'object', additionalProperties: true, description: 'approved / auto_approved / break_glass / denied' })
  readonly outcome?: object;
  @ApiProperty({ type: 'array', items: { type: 'object' } }) readonly revocationRequests!: object[];
  @ApiProperty({ type: ExplainedGrantDto, description: 'Provisioning (connector, when) and removal' }) readonly grant!: ExplainedGrantDto;
  @ApiPropertyOptional({ type: GrantEndingDto, description: 'Expiry or revocation: why and when' }) readonly ending?: GrantEndingDto;
  @ApiProperty({ type: [String], description: 'Links of the chain not seen (yet)', example: [] }) readonly missing!: string[];
}

class DriftFindingDto {
  @ApiProperty({ description: 'The drift-detected event that reported it' }) readonly eventId!: string;
  @ApiProperty({ enum: ['missing_in_target', 'unexpected_in_target', 'expired_but_present'] }) readonly kind!: string;
  @ApiProperty() readonly systemId!: string;
  @ApiProperty({ description: 'The account in the target system' }) readonly targetAccount!: string;
  @ApiProperty({ description: 'What the account holds (or should hold) in the target, e.g. a role' }) readonly externalRef!: string;
  @ApiPropertyOptional({ description: 'Absent for access in the target that no grant accounts for' }) readonly grantId?: string;
  @ApiProperty({ enum: ['reprovision', 'deprovision', 'report_only'] }) readonly remediation!: string;
}

class DriftCountsDto {
  @ApiProperty() readonly missingInTarget!: number;
  @ApiProperty() readonly unexpectedInTarget!: number;
  @ApiProperty() readonly expiredButPresent!: number;
}

export class ReconciliationDto {
  @ApiProperty() readonly connectorId!: string;
  @ApiProperty({ format: 'date-time', description: 'When the connector read the target: the instant the comparison is true for' })
  readonly observedAt!: string;
  @ApiProperty({ description: 'False while only findings have been seen: the completion (report id, counts) has not arrived yet' })
  readonly completed!: boolean;
  @ApiPropertyOptional() readonly reportId?: string;
  @ApiPropertyOptional({ description: 'Assignments the target reported in the roles the connector manages' }) readonly assignments?: number;
  @ApiPropertyOptional({ description: 'Grants that should have been live in the target at observedAt' }) readonly grantsExpected?: number;
  @ApiPropertyOptional({ type: DriftCountsDto }) readonly drift?: DriftCountsDto;
  @ApiProperty({ type: [DriftFindingDto] }) readonly findings!: DriftFindingDto[];
}

export class ReconciliationListDto {
  @ApiProperty({ type: [ReconciliationDto], description: 'Newest observedAt first' }) readonly reconciliations!: ReconciliationDto[];
}

export class CurrentDriftDto {
  @ApiProperty() readonly connectorId!: string;
  @ApiProperty({ format: 'date-time', description: 'When the latest completed reconciliation read the target' }) readonly observedAt!: string;
  @ApiProperty() readonly reportId!: string;
  @ApiProperty({
    type: 'object',
    properties: { missingInTarget: { type: 'number' }, unexpectedInTarget: { type: 'number' }, expiredButPresent: { type: 'number' } },
    description: 'Findings the reconciliation reported, per kind',
  })
  readonly drift!: object;
  @ApiProperty({ type: [DriftFindingDto], description: 'The drift open as last observed; empty when the target matched the grants' })
  readonly findings!: DriftFindingDto[];
  @ApiProperty({ description: 'Findings counted but not yet projected (they travel on other partitions than the summary); 0 = complete' })
  readonly findingsPending!: number;
}

export class AccessDenialDto {
  @ApiProperty({ description: 'The access-denied event that recorded it' }) readonly eventId!: string;
  @ApiProperty({ description: 'The refused caller (the token subject)' }) readonly principalId!: string;
  @ApiProperty({ enum: ['person', 'workload'] }) readonly principalKind!: string;
  @ApiProperty({ type: [String], description: 'The Grantline roles the caller held' }) readonly roles!: string[];
  @ApiProperty({ example: 'intake', description: 'The refusing service' }) readonly service!: string;
  @ApiProperty({ example: 'POST /v1/identities/:id/offboard' }) readonly operation!: string;
  @ApiPropertyOptional({ example: 'identity:alice', description: 'The object of the refused call; absent for an operation on no one object' })
  readonly objectRef?: string;
  @ApiProperty({ enum: [403, 404], description: '404: refused without revealing whether the object exists' }) readonly status!: number;
  @ApiProperty({ description: 'Why it was refused (never shown to the caller for a 404)' }) readonly reason!: string;
  @ApiProperty({ format: 'date-time' }) readonly at!: string;
  @ApiProperty({ description: 'Refusals of this caller by this service not recorded (rate limit) since its previous record' })
  readonly suppressedSincePrevious!: number;
}

export class AccessDenialListDto {
  @ApiProperty({ type: [AccessDenialDto], description: 'Newest first' }) readonly denials!: AccessDenialDto[];
}
