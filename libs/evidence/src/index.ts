export { EVIDENCE_TOPICS, EvidenceLog, linkOf } from './evidence-log';
export type { CatalogueEntry, Fact, GrantFacts, IdentityFacts, RequestFacts } from './evidence-log';
export { buildEvidencePack, isPrivileged, spanText } from './evidence-pack';
export type { EvidencePackOptions } from './evidence-pack';
export { DEFAULT_EVIDENCE_PARAMETERS } from './evidence-pack.model';
export type {
  ControlEvidence,
  ControlId,
  ControlStatus,
  EventLink,
  EvidenceLine,
  EvidencePack,
  EvidenceParameters,
  EvidencePeriod,
  Framework,
  LineStatus,
  LogPosition,
  PositionedEvent,
} from './evidence-pack.model';
export { linkText, renderEvidenceMarkdown } from './evidence-markdown';
export { EvidenceQuerySchema, MAX_EVIDENCE_PERIOD_DAYS } from './evidence-query.schema';
export type { EvidenceQuery } from './evidence-query.schema';
