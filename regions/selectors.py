from django.db.models import QuerySet

from regions.models import Region


def regions_of_account(*, account_id: int) -> QuerySet[Region]:
    return Region.objects.filter(account_regions__account_id=account_id).order_by("code")
