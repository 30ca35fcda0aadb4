/** What happens when an approval task's deadline passes unanswered. */
export type DeadlineAction = 'escalate' | 'deny';

/**
 * The approval service's own rules, beside the policy decision: who the security team is, how long tasks
 * stay open when the route sets no timeout, what a missed deadline does, and the break-glass limits.
 */
export interface ApprovalPolicy {
  /** The group the `security` resolver and escalations go to (break-glass notifications are the notifier's: NOTIFIER_SECURITY_GROUP). */
  readonly securityGroup: string;
  /** The group the `third_party_risk` resolver resolves to. */
  readonly thirdPartyRiskGroup: string;
  /** Statically configured group members, in addition to identities whose `groups` attribute names the group. */
  readonly groups: ReadonlyMap<string, readonly string[]>;
  /** dueAt of a task whose route stage sets no timeout (ISO-8601 duration). */
  readonly defaultTaskTimeout: string;
  /**
   * Default `escalate`: a task past its deadline is handed once to the security group (a new task); when that
   * one passes its deadline too, or nobody in the security group may approve, the request is denied (timeout).
   * `deny` denies at the first missed deadline.
   */
  readonly onDeadline: DeadlineAction;
  /** Break-glass access never lasts longer than this, whatever the request or policy says. */
  readonly breakGlassMaxDuration: string;
  /** The post-incident review is due this long after break-glass access is granted. */
  readonly breakGlassReviewWithin: string;
}

export const DEFAULT_APPROVAL_POLICY: ApprovalPolicy = {
  securityGroup: 'security',
  thirdPartyRiskGroup: 'third-party-risk',
  groups: new Map(),
  defaultTaskTimeout: 'P2D',
  onDeadline: 'escalate',
  breakGlassMaxDuration: 'PT4H',
  breakGlassReviewWithin: 'P2D',
};
