from allauth.account.adapter import DefaultAccountAdapter


class AccountAdapter(DefaultAccountAdapter):
    """Hook point for allauth's login flow (MFA stages, SSO routing arrive with their issues)."""
