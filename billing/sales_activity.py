"""The sales dashboard's rollup of members' counts (billing.models.AccountActivity).

Counting every active membership joined to its sign-in took most of the dashboard's time at
5,000 accounts and 200,000 members; beat refreshes the rollup every ACTIVITY_REFRESH_SECONDS and
the dashboard reads it while it is fresh (billing/sales_selectors.py ACTIVITY_FRESH), so the
figures lag the truth by at most that much, and the page says as of when."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from accounts.models import Membership
from billing.models import AccountActivity
from billing.sales_selectors import members_counted


def account_activity_refresh(*, now: datetime | None = None) -> int:
    """Recount every account's active members (one grouped scan) and replace the rollup with
    the result in one transaction, so readers see the old rollup or the new one, never a mix.
    Written as an upsert, then the rows of accounts left without active members go: two runs
    overlapping (a slow one and the next beat tick) never collide on an account's row.
    Returns the number of accounts with active members."""
    now = now or timezone.now()
    counts = members_counted(Membership.objects.filter(status=Membership.Status.ACTIVE), now)
    rows = [
        AccountActivity(
            account_id=account_id,
            members=stats.members,
            everywhere=stats.everywhere,
            active_7d=stats.active_7d,
            active_idle=stats.active_idle,
            computed_at=now,
        )
        for account_id, stats in counts.items()
    ]
    with transaction.atomic():
        AccountActivity.objects.bulk_create(
            rows, batch_size=2000, update_conflicts=True, unique_fields=["account"],
            update_fields=["members", "everywhere", "active_7d", "active_idle", "computed_at"],
        )  # fmt: skip
        AccountActivity.objects.filter(computed_at__lt=now).delete()
    return len(rows)
