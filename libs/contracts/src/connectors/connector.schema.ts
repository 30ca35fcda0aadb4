import { z } from 'zod';
import { AttributesSchema, IdSchema, LIMITS, ShortTextSchema, TimestampSchema, idListSchema } from '../common/primitives.schema';
import { withoutSecrets } from '../common/no-secrets.schema';
import { DeprovisionReasonSchema, GrantOperationSchema, idempotencyKeyOf } from '../grants/grant.schema';
import { CredentialTypeSchema } from '../policy/decision-recorded.schema';
import { defineEvent } from '../registry/event-definition';
import { CONNECTOR_ID_PLACEHOLDER, connectorCommandsTopic, connectorResultsTopic } from '../topics/topic.catalogue';

const ConnectorIdSchema = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,99}$/, { message: 'Invalid connector id' });
const ExternalTextSchema = z.string().min(1).max(LIMITS.shortText);

/** The commands topic of every connector; resolve the real one with `topicOf(definition, data)`. */
const COMMANDS = connectorCommandsTopic(CONNECTOR_ID_PLACEHOLDER);
const RESULTS = connectorResultsTopic(CONNECTOR_ID_PLACEHOLDER);

const CommandFields = {
  commandId: IdSchema,
  connectorId: ConnectorIdSchema,
  grantId: IdSchema,
  /** Target account in the system (login, role, principal). */
  targetAccount: ExternalTextSchema,
  /** The entitlement as the target system names it (role name, group DN, ...). */
  entitlementRef: ExternalTextSchema,
  idempotencyKey: z
    .string()
    .min(3)
    .max(LIMITS.id + 20),
};

function idempotencyKeyMatches(operation: 'provision' | 'deprovision') {
  return (command: { grantId: string; idempotencyKey: string }) => command.idempotencyKey === idempotencyKeyOf(command.grantId, operation);
}

const CredentialAskV1Shape = { type: CredentialTypeSchema.exclude(['none']), ttlSeconds: z.number().int().min(60).max(31_536_000) };

export const ProvisionRequestedV1DataSchema = z
  .strictObject({
    ...CommandFields,
    expiresAt: TimestampSchema,
    /** Ask the connector to mint a short-lived credential bound to the grant (NHIs). */
    credential: z.strictObject(CredentialAskV1Shape).optional(),
  })
  .refine(idempotencyKeyMatches('provision'), { message: 'Invalid idempotencyKey: expected <grantId>:provision', path: ['idempotencyKey'] });

export const ProvisionRequestedDataSchema = z
  .strictObject({
    ...CommandFields,
    expiresAt: TimestampSchema,
    /** Ask the connector to mint a credential bound to the grant: it dies with the grant and goes only to `holders`. */
    credential: z
      .strictObject({
        ...CredentialAskV1Shape,
        /**
         * The identities entitled to retrieve the secret once, decided by provisioning from authoritative identity
         * facts (a person: themself; a machine identity: its owner of record and the workload). Empty: nobody can.
         */
        holders: idListSchema({ min: 0, max: 20 }),
      })
      .optional(),
  })
  .refine(idempotencyKeyMatches('provision'), { message: 'Invalid idempotencyKey: expected <grantId>:provision', path: ['idempotencyKey'] });
export type ProvisionRequestedData = z.infer<typeof ProvisionRequestedDataSchema>;

/** v1 → v2: a v1 credential named no holders, so nobody may retrieve it (fail closed). */
export function upcastProvisionRequestedV1ToV2(previous: unknown): ProvisionRequestedData {
  const { credential, ...command } = ProvisionRequestedV1DataSchema.parse(previous);
  return credential === undefined ? command : { ...command, credential: { ...credential, holders: [] } };
}

export const DeprovisionRequestedDataSchema = z
  .strictObject({ ...CommandFields, reason: DeprovisionReasonSchema })
  .refine(idempotencyKeyMatches('deprovision'), { message: 'Invalid idempotencyKey: expected <grantId>:deprovision', path: ['idempotencyKey'] });
export type DeprovisionRequestedData = z.infer<typeof DeprovisionRequestedDataSchema>;

const ResultFields = {
  commandId: IdSchema,
  connectorId: ConnectorIdSchema,
  grantId: IdSchema,
  idempotencyKey: z
    .string()
    .min(3)
    .max(LIMITS.id + 20),
  completedAt: TimestampSchema,
  /** true when the target already was in the requested state (a repeated command). */
  alreadyApplied: z.boolean(),
};

export const IssuedCredentialRefSchema = z.strictObject({
  credentialId: IdSchema,
  type: CredentialTypeSchema.exclude(['none']),
  credentialRef: ExternalTextSchema,
  fingerprint: z.string().regex(/^(sha256|sha1|md5):[A-Za-z0-9+/=:_-]{8,128}$/),
  expiresAt: TimestampSchema,
});

export const ProvisionedDataSchema = withoutSecrets(
  z.strictObject({ ...ResultFields, externalId: ExternalTextSchema.optional(), credential: IssuedCredentialRefSchema.optional() }),
);
export type ProvisionedData = z.infer<typeof ProvisionedDataSchema>;

export const DeprovisionedDataSchema = z.strictObject(ResultFields);
export type DeprovisionedData = z.infer<typeof DeprovisionedDataSchema>;

/** The SDK's error taxonomy: retriable (timeouts, throttling, unavailable) or terminal (permission, not found, invalid). */
export const ConnectorErrorClassSchema = z.enum(['retriable', 'terminal']);

export const OperationFailedDataSchema = z.strictObject({
  commandId: IdSchema,
  connectorId: ConnectorIdSchema,
  grantId: IdSchema,
  idempotencyKey: z
    .string()
    .min(3)
    .max(LIMITS.id + 20),
  operation: GrantOperationSchema,
  errorClass: ConnectorErrorClassSchema,
  code: z.string().min(1).max(100),
  message: ShortTextSchema,
  failedAt: TimestampSchema,
});
export type OperationFailedData = z.infer<typeof OperationFailedDataSchema>;

export const ActualAssignmentSchema = z.strictObject({
  targetAccount: ExternalTextSchema,
  entitlementRef: ExternalTextSchema,
  grantId: IdSchema.optional(),
  attributes: AttributesSchema.optional(),
});

/** Reconciliation: what the target system actually has, one page at a time. */
export const StateReportedDataSchema = withoutSecrets(
  z.strictObject({
    connectorId: ConnectorIdSchema,
    reportId: IdSchema,
    observedAt: TimestampSchema,
    page: z.number().int().min(1),
    lastPage: z.boolean(),
    assignments: z.array(ActualAssignmentSchema).max(1000),
  }),
);
export type StateReportedData = z.infer<typeof StateReportedDataSchema>;

/**
 * Reconciliation: provisioning asks a connector for what its target actually has. The connector answers with
 * `iga.connector.state-reported.v1` pages under the same `reportId`.
 */
export const StateReportRequestedDataSchema = z.strictObject({
  reportId: IdSchema,
  connectorId: ConnectorIdSchema,
  requestedAt: TimestampSchema,
});
export type StateReportRequestedData = z.infer<typeof StateReportRequestedDataSchema>;

export const ConnectorProvisionRequestedV1 = defineEvent('iga.connector.provision-requested', 1, COMMANDS, ProvisionRequestedV1DataSchema);
/** v2: a credential ask names who may retrieve the secret. */
export const ConnectorProvisionRequestedV2 = defineEvent('iga.connector.provision-requested', 2, COMMANDS, ProvisionRequestedDataSchema);
/** The current version: what provisioning writes. */
export const ConnectorProvisionRequested = ConnectorProvisionRequestedV2;
export const ConnectorDeprovisionRequested = defineEvent('iga.connector.deprovision-requested', 1, COMMANDS, DeprovisionRequestedDataSchema);
export const ConnectorProvisioned = defineEvent('iga.connector.provisioned', 1, RESULTS, ProvisionedDataSchema);
export const ConnectorDeprovisioned = defineEvent('iga.connector.deprovisioned', 1, RESULTS, DeprovisionedDataSchema);
export const ConnectorOperationFailed = defineEvent('iga.connector.operation-failed', 1, RESULTS, OperationFailedDataSchema);
export const ConnectorStateReported = defineEvent('iga.connector.state-reported', 1, RESULTS, StateReportedDataSchema);
export const ConnectorStateReportRequested = defineEvent('iga.connector.state-report-requested', 1, COMMANDS, StateReportRequestedDataSchema);
