# The benchmark's representative policy in Rego (same semantics as ../grantline).
package grantline

nhi_kinds := {"service_account", "api_key", "workload", "ci_pipeline", "ai_agent"}

privileges_priv := {"write", "admin"}

is_nhi if nhi_kinds[input.subject.kind]

is_human if input.subject.kind == "human"

privileged_prod if {
	input.entitlement.environment == "prod"
	privileges_priv[input.entitlement.privilege]
}

deny contains "nhi-owner" if {
	is_nhi
	object.get(input.subject, "ownerOfRecord", null) == null
}

deny contains "nhi-expiry" if {
	is_nhi
	object.get(input.request, "duration", null) == null
}

deny contains "sa-scope" if {
	input.subject.kind == "service_account"
	privileged_prod
	not input.entitlement.system in input.subject.attributes.scope
}

stages contains "nhi_owner" if {
	is_nhi
	privileged_prod
}

stages contains "security" if {
	is_nhi
	privileged_prod
}

stages contains "manager" if {
	is_human
	input.entitlement.sensitivity in {"medium", "high", "critical"}
}

stages contains "resource_owner" if input.entitlement.sensitivity in {"high", "critical"}

auto if {
	is_human
	input.entitlement.environment == "nonprod"
	input.entitlement.sensitivity == "low"
	input.entitlement.privilege == "read"
}

auto if {
	is_nhi
	input.entitlement.environment == "nonprod"
	input.entitlement.privilege == "read"
}

default effect := "deny"

effect := "deny" if count(deny) > 0

else := "require_approval" if count(stages) > 0

else := "auto_approve" if auto

decision := {"effect": effect, "stages": stages, "deny": deny}
