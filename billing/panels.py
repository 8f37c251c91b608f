"""The account home's billing panel (accounts/home_panels.py): a link for owners and billing
contacts, hidden from everyone else. No query, so the home's pinned query counts hold."""

from django.urls import reverse

from accounts.home_panels import home_panel_register


def _panel_context(request, membership, perms: frozenset[str]) -> dict | None:
    if "billing.view" not in perms:
        return None
    return {"billing_url": reverse("billing:home", args=[membership.account.slug])}


home_panel_register(name="billing", template="billing/_home_panel.html", context=_panel_context, order=40)
