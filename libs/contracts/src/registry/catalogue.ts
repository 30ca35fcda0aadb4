import {
  ApprovalBreakGlassGranted,
  ApprovalDecisionRecorded,
  ApprovalEscalated,
  ApprovalRequestApproved,
  ApprovalRequestDenied,
  ApprovalReviewOpened,
  ApprovalSelfApprovalBlocked,
  ApprovalTaskOpened,
} from '../approvals/approval.schema';
import { ApprovalReviewCompleted, ApprovalReviewEscalated } from '../approvals/review.schema';
import {
  ApprovalCampaignCompleted,
  ApprovalCampaignScheduled,
  ApprovalCampaignStarted,
  ApprovalCertificationBlocked,
  ApprovalCertificationDecided,
  ApprovalCertificationLapsed,
} from '../approvals/certification.schema';
import { AuditCheckpointSigned } from '../audit/checkpoint-signed.schema';
import { AuditLogCheckpointed } from '../audit/log-checkpointed.schema';
import {
  CatalogPublished,
  CatalogPublishedV1,
  CatalogPublishedV2,
  upcastCatalogPublishedV1ToV2,
  upcastCatalogPublishedV2ToV3,
} from '../catalog/catalog-published.schema';
import { ApprovalAccessDenied, AuditAccessDenied, PolicyAccessDenied, RequestAccessDenied, TimerAccessDenied } from '../control/access-denied.schema';
import {
  ConnectorDeprovisioned,
  ConnectorDeprovisionRequested,
  ConnectorOperationFailed,
  ConnectorProvisioned,
  ConnectorProvisionRequested,
  ConnectorProvisionRequestedV1,
  ConnectorStateReported,
  ConnectorStateReportRequested,
  upcastProvisionRequestedV1ToV2,
} from '../connectors/connector.schema';
import {
  ConnectorCredentialRotated,
  ConnectorCredentialRotatedV1,
  ConnectorRotationFailed,
  ConnectorRotationFailedV1,
  ConnectorRotationRequested,
  ConnectorRotationRequestedV1,
  upcastCredentialRotatedV1ToV2,
  upcastRotationFailedV1ToV2,
  upcastRotationRequestedV1ToV2,
} from '../connectors/rotation.schema';
import {
  ConnectorAccountDeactivated,
  ConnectorAccountDeactivationFailed,
  ConnectorAccountDeactivationRequested,
} from '../connectors/account-deactivation.schema';
import { ConnectorAccessDenied } from '../connectors/connector-access-denied.schema';
import { MessagingDeadLetterRepublished } from '../dead-letter/dead-letter-republished.schema';
import { MessagingDeadLettered, MessagingDeadLetteredV1, upcastDeadLetteredV1ToV2 } from '../dead-letter/dead-lettered.schema';
import {
  GrantActivated,
  GrantCreated,
  GrantCredentialIssued,
  GrantDeprovisioningRequested,
  GrantDriftDetected,
  GrantProvisioningFailed,
  GrantProvisioningRequested,
  GrantReconciliationCompleted,
  GrantRevoked,
} from '../grants/grant.schema';
import {
  GrantCredentialRotated,
  GrantCredentialRotatedV1,
  GrantRotationFailed,
  GrantRotationRequested,
  GrantRotationRequestedV1,
  upcastGrantCredentialRotatedV1ToV2,
  upcastGrantRotationRequestedV1ToV2,
} from '../grants/grant-rotation.schema';
import { GrantAccountDeactivated, GrantAccountDeactivationFailed, GrantAccountDeactivationRequested } from '../grants/account-deactivation.schema';
import { GrantExpiryShortened } from '../grants/grant-expiry-shortened.schema';
import { IdentityOffboarded, IdentityOwnerChanged, IdentityOwnerTransferProposed, IdentityUpserted } from '../identities/identity.schema';
import { IdentityCredentialsRotationFlagged, IdentityOwnershipTransferOpened } from '../identities/ownership-transfer.schema';
import { ItsmRequestReceived, ItsmStatusChanged } from '../itsm/itsm.schema';
import { ItsmServiceNowItemReceived } from '../itsm/servicenow-catalog-item.schema';
import { NotificationRequested, NotificationRequestedV1, upcastNotificationRequestedV1ToV2 } from '../notifications/notification-requested.schema';
import { PolicyBundleLoaded, PolicyDecisionRecorded, PolicyDecisionRecordedV1, upcastDecisionRecordedV1ToV2 } from '../policy/decision-recorded.schema';
import { PolicySodScanCompleted, PolicySodViolationDetected } from '../policy/sod-violation.schema';
import { PolicyReviewItemsEvaluated } from '../policy/review-items-evaluated.schema';
import { RequestSubmittedV1, RequestSubmittedV2, upcastRequestSubmittedV1ToV2 } from '../requests/request-submitted.schema';
import { RequestWithdrawn } from '../requests/request-withdrawn.schema';
import { RevocationRequested } from '../requests/revocation-requested.schema';
import { TimerFired, TimerFiredV1, upcastTimerFiredV1ToV2 } from '../schedule/timer-fired.schema';
import type { EnvelopeOf, EventDefinition } from './event-definition';
import { EventRegistry } from './event.registry';

/** The current version of every event in the catalogue: what producers write and consumers handle after decode. */
export const CATALOGUE = [
  RequestSubmittedV2,
  RequestWithdrawn,
  RevocationRequested,
  IdentityUpserted,
  IdentityOwnerChanged,
  IdentityOwnerTransferProposed,
  IdentityOffboarded,
  IdentityOwnershipTransferOpened,
  IdentityCredentialsRotationFlagged,
  CatalogPublished,
  PolicyDecisionRecorded,
  PolicyBundleLoaded,
  PolicySodViolationDetected,
  PolicySodScanCompleted,
  PolicyReviewItemsEvaluated,
  ApprovalTaskOpened,
  ApprovalDecisionRecorded,
  ApprovalRequestApproved,
  ApprovalRequestDenied,
  ApprovalEscalated,
  ApprovalSelfApprovalBlocked,
  ApprovalBreakGlassGranted,
  ApprovalReviewOpened,
  ApprovalReviewCompleted,
  ApprovalReviewEscalated,
  ApprovalCampaignScheduled,
  ApprovalCampaignStarted,
  ApprovalCertificationDecided,
  ApprovalCertificationLapsed,
  ApprovalCertificationBlocked,
  ApprovalCampaignCompleted,
  GrantCreated,
  GrantProvisioningRequested,
  GrantActivated,
  GrantProvisioningFailed,
  GrantDeprovisioningRequested,
  GrantRevoked,
  GrantCredentialIssued,
  GrantDriftDetected,
  GrantReconciliationCompleted,
  GrantRotationRequested,
  GrantCredentialRotated,
  GrantRotationFailed,
  GrantExpiryShortened,
  GrantAccountDeactivationRequested,
  GrantAccountDeactivated,
  GrantAccountDeactivationFailed,
  ConnectorProvisionRequested,
  ConnectorDeprovisionRequested,
  ConnectorProvisioned,
  ConnectorDeprovisioned,
  ConnectorOperationFailed,
  ConnectorStateReported,
  ConnectorStateReportRequested,
  ConnectorRotationRequested,
  ConnectorCredentialRotated,
  ConnectorRotationFailed,
  ConnectorAccountDeactivationRequested,
  ConnectorAccountDeactivated,
  ConnectorAccountDeactivationFailed,
  TimerFired,
  ItsmRequestReceived,
  ItsmServiceNowItemReceived,
  ItsmStatusChanged,
  MessagingDeadLettered,
  MessagingDeadLetterRepublished,
  NotificationRequested,
  AuditCheckpointSigned,
  AuditLogCheckpointed,
  RequestAccessDenied,
  PolicyAccessDenied,
  ApprovalAccessDenied,
  TimerAccessDenied,
  AuditAccessDenied,
  ConnectorAccessDenied,
] as const;

/** Any decoded catalogue event; `switch (event.type)` narrows `data`. */
export type CatalogueEvent = EnvelopeOfEach<(typeof CATALOGUE)[number]>;
// Distributes over the union so each envelope keeps its own type/data pair (a plain EnvelopeOf would mix them).
type EnvelopeOfEach<T> = T extends EventDefinition ? EnvelopeOf<T> : never;
export type CatalogueEventType = CatalogueEvent['type'];

/** A fresh registry holding the whole catalogue (tests that add their own definitions start from this). */
export function createCatalogueRegistry(): EventRegistry {
  const created = new EventRegistry()
    .register(RequestSubmittedV1)
    .register(RequestSubmittedV2, upcastRequestSubmittedV1ToV2)
    .register(NotificationRequestedV1)
    .register(NotificationRequested, upcastNotificationRequestedV1ToV2)
    .register(MessagingDeadLetteredV1)
    .register(MessagingDeadLettered, upcastDeadLetteredV1ToV2)
    .register(TimerFiredV1)
    .register(TimerFired, upcastTimerFiredV1ToV2)
    .register(PolicyDecisionRecordedV1)
    .register(PolicyDecisionRecorded, upcastDecisionRecordedV1ToV2)
    .register(CatalogPublishedV1)
    .register(CatalogPublishedV2, upcastCatalogPublishedV1ToV2)
    .register(CatalogPublished, upcastCatalogPublishedV2ToV3)
    .register(ConnectorProvisionRequestedV1)
    .register(ConnectorProvisionRequested, upcastProvisionRequestedV1ToV2)
    .register(GrantRotationRequestedV1)
    .register(GrantRotationRequested, upcastGrantRotationRequestedV1ToV2)
    .register(GrantCredentialRotatedV1)
    .register(GrantCredentialRotated, upcastGrantCredentialRotatedV1ToV2)
    .register(ConnectorRotationRequestedV1)
    .register(ConnectorRotationRequested, upcastRotationRequestedV1ToV2)
    .register(ConnectorCredentialRotatedV1)
    .register(ConnectorCredentialRotated, upcastCredentialRotatedV1ToV2)
    .register(ConnectorRotationFailedV1)
    .register(ConnectorRotationFailed, upcastRotationFailedV1ToV2);
  for (const def of CATALOGUE) if (!created.has(def.type)) created.register(def);
  return created;
}

/** The full Grantline catalogue, every definition registered. */
export const registry: EventRegistry = createCatalogueRegistry();
