// The benchmark's representative policy in Cedar. Cedar answers allow/deny with the ids of the policies
// that determined it, so the three outcomes are encoded as: any forbid (or no permit) = deny; an allow
// determined by a "stage:" permit = require_approval with those stages; otherwise auto_approve.
const PRIV = '(resource.environment == "prod" && ["write", "admin"].contains(resource.privilege))';
const NHI = '["service_account", "api_key", "workload", "ci_pipeline", "ai_agent"].contains(principal.kind)';

export const cedarPolicies: Record<string, string> = {
  'nhi-owner': `forbid(principal, action, resource) when { ${NHI} && !(principal has ownerOfRecord) };`,
  'nhi-expiry': `forbid(principal, action, resource) when { ${NHI} && !context.hasDuration };`,
  'sa-scope': `forbid(principal, action, resource) when { principal.kind == "service_account" && ${PRIV} && !principal.scope.contains(resource.system) };`,
  'stage:nhi_owner': `permit(principal, action, resource) when { ${NHI} && ${PRIV} };`,
  'stage:security': `permit(principal, action, resource) when { ${NHI} && ${PRIV} };`,
  'stage:manager': `permit(principal, action, resource) when { principal.kind == "human" && ["medium", "high", "critical"].contains(resource.sensitivity) };`,
  'stage:resource_owner': `permit(principal, action, resource) when { ["high", "critical"].contains(resource.sensitivity) };`,
  'auto:human-low-nonprod-read': `permit(principal, action, resource) when { principal.kind == "human" && resource.environment == "nonprod" && resource.sensitivity == "low" && resource.privilege == "read" };`,
  'auto:nhi-nonprod-read': `permit(principal, action, resource) when { ${NHI} && resource.environment == "nonprod" && resource.privilege == "read" };`,
};
