export { AUDIT_SIGNING, DEFAULT_AUDIT_KEY_NAME, DEFAULT_CHECKPOINT_INTERVAL_MS, loadAuditSigning } from './audit-signing.config';
export type { AuditSigning } from './audit-signing.config';
export { LogCheckpointer } from './log-checkpointer.service';
export type { RebuildReport } from './log-checkpointer.service';
export { TransparencyModule } from './transparency.module';
