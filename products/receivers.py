"""What an account's region changes mean for its entitlements (accounts.signals)."""

from django.dispatch import receiver

from accounts.audit import audit_record
from accounts.signals import account_region_added, account_region_removed
from products.models import Entitlement
from products.provisioning import KIND, OBJECT_KEY, entitlements_desire
from regions.ledger import ledger_desire


@receiver(account_region_added)
def send_entitlements_to_a_new_region(sender, *, account, region, **kwargs):
    """The new region learns what the account owns there."""
    entitlements_desire(account, [region])


@receiver(account_region_removed)
def withdraw_entitlements_from_a_region_left(sender, *, account, region, **kwargs):
    """A region the account no longer uses enforces no product for it: its trials and active
    entitlements there end (cancelled, audited), so the portal says what the region enforces,
    a trial's extension covers only the regions still used, and the region can be added again."""
    in_effect = Entitlement.objects.filter(
        account=account, region=region, status__in=[Entitlement.Status.TRIAL, Entitlement.Status.ACTIVE]
    ).select_related("product")
    for entitlement in in_effect:
        audit_record(
            action="entitlement.cancel", account=account, target_type="entitlement", target_id=entitlement.pk,
            target_label=f"{entitlement.product.code} in {region.code}",
            before={"status": entitlement.status}, after={"status": "cancelled", "reason": "region left"},
        )  # fmt: skip
    in_effect.update(status=Entitlement.Status.CANCELLED)
    ledger_desire(kind=KIND, tenant=account.slug, object_key=OBJECT_KEY, regions=[region], desired=None)
