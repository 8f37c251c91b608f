"""Customer SSO: claimed email domains and their proof, and each account's OpenID Connect
connection (issue 11; accounts/sso.py writes them).

Imported at the end of accounts/models.py, so these are models of the `accounts` app."""
