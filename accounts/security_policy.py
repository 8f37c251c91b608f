"""Account security policy: versioned, audited, pushed to every region, enforced (issue 11).

Contract used by other parts (keep these names and signatures):
- `password_validate(*, password: str, user) -> None`: raises django's ValidationError when the
  password breaks the strictest password rules of the accounts `user` belongs to (or, for a
  person not yet saved, Django's defaults). The account adapter calls it from clean_password.
"""


def password_validate(*, password: str, user) -> None:
    return None


def sso_only(*, account) -> bool:
    """Whether the account's policy is SSO-only (its verified domains may not use passwords)."""
    return False
