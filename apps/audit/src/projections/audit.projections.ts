import { accessDenialsProjection } from './access-denials.projection';
import { campaignProjection } from './campaign.projection';
import { grantAccessProjection } from './grant-access.projection';
import { grantExplanationProjection } from './grant-explanation.projection';
import { identityRelationsProjection } from './identity-relations.projection';
import type { Projection } from './projection';
import { reconciliationProjection } from './reconciliation.projection';
import { requestTimelineProjection } from './request-timeline.projection';

/** Every read model the audit service keeps. A new version is added here next to the old one, rebuilt, then switched to. */
export const AUDIT_PROJECTIONS: readonly Projection[] = [
  requestTimelineProjection,
  grantAccessProjection,
  grantExplanationProjection,
  reconciliationProjection,
  identityRelationsProjection,
  accessDenialsProjection,
  campaignProjection,
];
