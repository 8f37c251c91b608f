"""Signals other apps listen to. accounts knows nothing of the catalog (products depends on
accounts, never the reverse), so what an account's region change means for products is said
here and heard there. Sent inside the change's transaction: a receiver's ledger rows commit
or roll back with it."""

from django.dispatch import Signal

# account, region: the account started using the region (members are back-filled already).
account_region_added = Signal()
# account, region: the account stops using the region (member deletions are recorded already).
account_region_removed = Signal()
