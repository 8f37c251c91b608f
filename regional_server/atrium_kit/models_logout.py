"""Back-channel logout bookkeeping: logout tokens already used (`jti`), so a replay is refused
(issue 11).

Imported at the end of atrium_kit/models.py, so these are models of this app ("tenants")."""
