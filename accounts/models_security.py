"""The account security policy and its versions (issue 11; accounts/security_policy.py writes them).

Imported at the end of accounts/models.py, so these are models of the `accounts` app."""
