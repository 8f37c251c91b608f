"""The account switcher in templates/_nav.html: the signed-in person's open accounts, and which
one the page belongs to. One query, run only when a template reads it."""

from django.utils.functional import SimpleLazyObject

from accounts.models import Membership


def _open_memberships(user) -> list[Membership]:
    return list(
        Membership.objects.filter(user=user, account__closed_at__isnull=True)
        .exclude(status=Membership.Status.REMOVING)
        .select_related("account")
        .order_by("account__name", "account__slug")
    )


def account_switcher(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    match = getattr(request, "resolver_match", None)
    current = match.kwargs.get("slug") if match and "accounts" in match.namespaces else None
    return {
        "switcher_memberships": SimpleLazyObject(lambda: _open_memberships(user)),
        "current_account_slug": current,
    }
