"""Customer SSO: claimed domains, their proof, and each account's OpenID Connect IdP (issue 11).

Contract used by other parts (keep these names and signatures):
- `federated_mfa_trusted(login) -> bool`: this allauth `Login` came through an account's SSO
  connection that trusts the IdP's MFA, and the IdP asserted MFA (its `amr`): Atrium's own MFA
  stage is then skipped (never asked twice), and the session's `amr` carries `fed` and `mfa`.
"""


def federated_mfa_trusted(login) -> bool:
    return False
