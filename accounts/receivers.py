"""Reactions to the regions ledger (connected in AccountsConfig.ready)."""

from django.dispatch import receiver

from accounts.services import membership_removal_confirm
from regions.models import ProvisioningRecord
from regions.signals import record_synced


@receiver(record_synced, dispatch_uid="accounts.membership_removal_confirm")
def confirm_member_removal(sender, record: ProvisioningRecord, **kwargs) -> None:
    # Only a confirmed deletion of a user can finish a removal; the service re-checks every
    # region under a lock, so duplicate or concurrent signals are harmless.
    if record.kind == ProvisioningRecord.Kind.USER and record.is_deletion:
        membership_removal_confirm(tenant=record.tenant, object_key=record.object_key)
