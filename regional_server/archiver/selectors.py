from django.http import Http404

from archiver.models import Hold


def holds_of(*, tenant, active_only: bool = False) -> list[Hold]:
    holds = Hold.objects.filter(tenant=tenant)
    if active_only:
        holds = holds.filter(released_at__isnull=True)
    return list(holds)


def hold_of_tenant(*, tenant, hold_id: int) -> Hold:
    """The tenant's hold, or 404 (another tenant's hold does not exist for it)."""
    hold = Hold.objects.filter(tenant=tenant, pk=hold_id).first()
    if hold is None:
        raise Http404("No such hold")
    return hold
