"""What an account's region changes mean for its entitlements (accounts.signals)."""

from django.dispatch import receiver

from accounts.signals import account_region_added, account_region_removed
from products.provisioning import KIND, OBJECT_KEY, entitlements_desire
from regions.ledger import ledger_desire


@receiver(account_region_added)
def send_entitlements_to_a_new_region(sender, *, account, region, **kwargs):
    """The new region learns what the account owns there."""
    entitlements_desire(account, [region])


@receiver(account_region_removed)
def withdraw_entitlements_from_a_region_left(sender, *, account, region, **kwargs):
    """A region the account no longer uses enforces no product for it."""
    ledger_desire(kind=KIND, tenant=account.slug, object_key=OBJECT_KEY, regions=[region], desired=None)
