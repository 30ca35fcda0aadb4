import { z } from 'zod';

// The evidence pack (libs/evidence's EvidencePack) as the evidence route answers it: the route's return type is this
// schema's type, so the compiler holds the pack to what /docs shows.

const timestamp = z.iso.datetime({ offset: true });

const EventLinkSchema = z.object({
  id: z.string().describe('CloudEvent id'),
  type: z.string().meta({ example: 'iga.grant.revoked.v1' }),
  topic: z.string().meta({ example: 'iga.grants.v1' }),
  partition: z.number().int(),
  offset: z.string().meta({ example: '42' }),
  time: timestamp,
});

const EvidenceLineSchema = z.object({
  status: z.enum(['ok', 'finding', 'pending']),
  about: z.string().describe('A grant, identity, request or credential id'),
  text: z.string(),
  links: z.array(EventLinkSchema).describe('The events that prove the line, in the order the story reads'),
});

const ControlEvidenceSchema = z.object({
  id: z.enum(['AC-2', 'AC-2(2)', 'AC-2(3)', 'AC-5', 'AC-6', 'PR.AA-01', 'PR.AA-05', 'NHI1', 'NHI5', 'NHI7', 'NHI10']),
  framework: z.enum(['NIST SP 800-53 Rev. 5', 'NIST CSF 2.0', 'OWASP Non-Human Identities Top 10 (2025)']),
  title: z.string(),
  requirement: z.string().describe('What the control asks, in one sentence'),
  method: z.string().describe('How this pack checks it against the log'),
  status: z.enum(['satisfied', 'finding', 'not_observable']),
  reason: z.string().describe('Why this status: for not_observable, what the log lacks'),
  count: z.number().int().describe('Lines (items checked) in the period'),
  findings: z.number().int(),
  lines: z.array(EvidenceLineSchema),
});

export const EvidencePackSchema = z.object({
  kind: z.literal('grantline.evidence-pack'),
  version: z.literal(1),
  period: z.object({ from: timestamp, to: timestamp }),
  evaluatedAt: timestamp.describe('The instant the log was judged at: deadlines not passed by then are pending, not findings'),
  parameters: z
    .object({ removalTolerance: z.string(), standingPrivilegeAfter: z.string(), credentialMaxLifetime: z.string() })
    .describe('The thresholds the checks use, as ISO-8601 durations'),
  log: z
    .object({
      source: z.string(),
      topics: z.array(z.string()),
      events: z.number().int(),
      through: z.record(z.string(), z.record(z.string(), z.string())).describe('Per topic and partition, the last offset read'),
    })
    .describe('What was read: every event from the beginning of these topics'),
  summary: z.object({ satisfied: z.number().int(), findings: z.number().int(), notObservable: z.number().int() }),
  controls: z.array(ControlEvidenceSchema),
});
