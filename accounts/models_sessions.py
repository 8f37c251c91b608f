"""A person's portal sessions: device, address, last seen, the `sid` their ID tokens carry
(issue 11; accounts/sessions.py writes them).

Imported at the end of accounts/models.py, so these are models of the `accounts` app."""
