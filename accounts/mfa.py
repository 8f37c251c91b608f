"""MFA with django-otp inside allauth's login (issue 11).

Contract used by other parts (keep these names and signatures):
- `login_stages() -> list[str]`: dotted paths of the login stages this part adds (the account
  adapter appends them after allauth's own, so MFA is the last stage).
- `mfa_enrolled(*, user) -> bool`: the person has a confirmed TOTP device.
"""


def login_stages() -> list[str]:
    return []


def mfa_enrolled(*, user) -> bool:
    return False
