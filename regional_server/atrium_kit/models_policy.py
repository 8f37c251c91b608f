"""The security policy Atrium pushed for a tenant, as this region enforces it (issue 11).

Imported at the end of atrium_kit/models.py, so these are models of this app ("tenants")."""
