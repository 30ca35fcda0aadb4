import { ApiProperty } from '@nestjs/swagger';

// OpenAPI descriptions of the evidence pack (libs/evidence's EvidencePack); the service returns the plain pack.

class EventLinkDto {
  @ApiProperty({ description: 'CloudEvent id' }) readonly id!: string;
  @ApiProperty({ example: 'iga.grant.revoked.v1' }) readonly type!: string;
  @ApiProperty({ example: 'iga.grants.v1' }) readonly topic!: string;
  @ApiProperty() readonly partition!: number;
  @ApiProperty({ example: '42' }) readonly offset!: string;
  @ApiProperty({ format: 'date-time' }) readonly time!: string;
}

class EvidenceLineDto {
  @ApiProperty({ enum: ['ok', 'finding', 'pending'] }) readonly status!: string;
  @ApiProperty({ description: 'A grant, identity, request or credential id' }) readonly about!: string;
  @ApiProperty() readonly text!: string;
  @ApiProperty({ type: [EventLinkDto] }) readonly links!: EventLinkDto[];
}

class ControlEvidenceDto {
  @ApiProperty({ example: 'AC-2(2)' }) readonly id!: string;
  @ApiProperty({ enum: ['NIST SP 800-53 Rev. 5', 'NIST CSF 2.0', 'OWASP Non-Human Identities Top 10 (2025)'] }) readonly framework!: string;
  @ApiProperty() readonly title!: string;
  @ApiProperty() readonly requirement!: string;
  @ApiProperty() readonly method!: string;
  @ApiProperty({ enum: ['satisfied', 'finding', 'not_observable'] }) readonly status!: string;
  @ApiProperty() readonly reason!: string;
  @ApiProperty() readonly count!: number;
  @ApiProperty() readonly findings!: number;
  @ApiProperty({ type: [EvidenceLineDto] }) readonly lines!: EvidenceLineDto[];
}

class EvidencePeriodDto {
  @ApiProperty({ format: 'date-time' }) readonly from!: string;
  @ApiProperty({ format: 'date-time' }) readonly to!: string;
}

export class EvidencePackDto {
  @ApiProperty({ enum: ['grantline.evidence-pack'] }) readonly kind!: string;
  @ApiProperty({ enum: [1] }) readonly version!: number;
  @ApiProperty({ type: EvidencePeriodDto }) readonly period!: EvidencePeriodDto;
  @ApiProperty({ format: 'date-time' }) readonly evaluatedAt!: string;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' }, description: 'removalTolerance, standingPrivilegeAfter, credentialMaxLifetime' })
  readonly parameters!: Record<string, string>;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'source, topics, events read, last offset per topic partition' })
  readonly log!: Record<string, unknown>;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'number' } }) readonly summary!: Record<string, number>;
  @ApiProperty({ type: [ControlEvidenceDto] }) readonly controls!: ControlEvidenceDto[];
}
