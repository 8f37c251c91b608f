"""The catalog pages: every product, where it is offered, and what the current account owns
in each region. The account is `?account=<slug>` among the person's own, else their first."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_safe

from products import selectors


def _context(request) -> dict:
    accounts = selectors.catalog_accounts(user=request.user)
    account = selectors.catalog_account(accounts=accounts, slug=request.GET.get("account"))
    return {"accounts": accounts, "account": account}


@login_required
@require_safe
def catalog(request):
    context = _context(request)
    context["entries"] = selectors.catalog(account=context["account"])
    return render(request, "products/catalog.html", context)


@login_required
@require_safe
def product_detail(request, code: str):
    context = _context(request)
    context["entry"] = selectors.catalog_entry(code=code, account=context["account"])
    return render(request, "products/detail.html", context)
