"""Tells the catalog's upsell where a paid product's regions are added: on the billing page, where
the seats are previewed and charged (products.upsell.BILLED_AT; products knows nothing of money)."""

from django.urls import reverse

from accounts.models import Account
from billing.models import Subscription
from billing.selectors import LIVE
from products.models import Product


def subscription_page(account: Account, product: Product) -> str | None:
    if Subscription.objects.filter(account=account, product=product, status__in=LIVE).exists():
        return reverse("billing:home", args=[account.slug])
    return None
