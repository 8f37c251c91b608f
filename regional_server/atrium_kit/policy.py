"""The tenant's security policy as pushed by Atrium, and its enforcement here (issue 11).

Contract used by other parts (keep these names and signatures):
- `tenant_policy_document(*, tenant) -> dict | None`: the policy document this region enforces
  for the tenant (None before Atrium pushed one): `{"tenant", "version", "mfa_required",
  "session_lifetime_seconds", "idle_timeout_seconds", "sso_only"}`.
"""


def tenant_policy_document(*, tenant) -> dict | None:
    return None
