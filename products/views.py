"""The catalog pages: every product, where it is offered, and what the current account owns
in each region. The account is `?account=<slug>` among the person's own, else their first.
Admins start a free trial from the product page (POST, through products.trials)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe

from accounts import permissions
from accounts.selectors import membership_for_page
from products import selectors, trials, upsell
from products.forms import TrialStartForm


def _context(request) -> dict:
    memberships = selectors.catalog_memberships(user=request.user)
    accounts = [membership.account for membership in memberships]
    account = selectors.catalog_account(accounts=accounts, slug=request.GET.get("account"))
    membership = next((m for m in memberships if account is not None and m.account_id == account.pk), None)
    return {"accounts": accounts, "account": account, "membership": membership}


@login_required
@require_safe
def catalog(request):
    context = _context(request)
    context["entries"] = selectors.catalog(account=context["account"])
    return render(request, "products/catalog.html", context)


def _detail(request, code: str, context: dict, *, form=None, errors=(), status: int = 200):
    entry = selectors.catalog_entry(code=code, account=context["account"])
    context["entry"] = entry
    context["trial"] = selectors.trial_offer(entry=entry, membership=context.get("membership"))
    context["trial_errors"] = list(errors)
    context["chosen"] = form.data.getlist("regions") if form is not None else []
    return render(request, "products/detail.html", context, status=status)


@login_required
@require_safe
def product_detail(request, code: str):
    return _detail(request, code, _context(request))


@login_required
@require_POST
def trial_start(request, code: str):
    """Start the account's free trial in the regions chosen; back to the product page."""
    membership = membership_for_page(user=request.user, slug=request.POST.get("account", ""))  # 404
    permissions.require(membership, "members.manage")
    account = membership.account
    product = selectors.product_for_trial(code=code)  # 404
    offered = {link.region.code: link.region for link in product.availability.all()}
    form = TrialStartForm(request.POST, region_codes=sorted(offered))
    context = {"accounts": selectors.catalog_accounts(user=request.user), "account": account,
               "membership": membership}  # fmt: skip
    if not form.is_valid():
        errors = [error for field_errors in form.errors.values() for error in field_errors]
        return _detail(request, code, context, form=form, errors=errors, status=400)
    regions = [offered[region_code] for region_code in form.cleaned_data["regions"]]
    try:
        trials.trial_start(account=account, product=product, regions=regions, actor=membership)
    except ValidationError as exc:
        return _detail(request, code, context, form=form, errors=exc.messages, status=400)
    names = ", ".join(region.code.upper() for region in regions)
    messages.success(request, f"{account.name}'s free trial of {product.name} has started in {names}.")
    return redirect(f"{reverse('products:detail', args=[code])}?account={account.slug}")


# Upsell: add a region to a product the account owns (products.upsell) --------------------------


def _upsell_target(code: str, region_code: str):
    """The product and one region it is offered in (404 otherwise)."""
    product = selectors.product_for_trial(code=code)  # 404
    region = next(
        (link.region for link in product.availability.all() if link.region.code == region_code), None
    )
    if region is None:
        raise Http404("No such region for this product")
    return product, region


def _upsell_back(code: str, account) -> str:
    return f"{reverse('products:detail', args=[code])}?account={account.slug}"


@login_required
@require_safe
def upsell_confirm(request, code: str, region: str):
    """The confirmation naming the product, the region and how many members it provisions."""
    membership = _context(request)["membership"]
    if membership is None:
        raise Http404("No such account")
    permissions.require(membership, upsell.RIGHT)
    product, region_obj = _upsell_target(code, region)
    context = {"account": membership.account, "membership": membership, "product": product,
               "region": region_obj, "back": _upsell_back(code, membership.account)}  # fmt: skip
    try:
        context["plan"] = upsell.product_region_plan(
            account=membership.account, product=product, region=region_obj
        )
    except ValidationError as exc:
        context["errors"] = exc.messages
        return render(request, "products/upsell_confirm.html", context, status=409)
    return render(request, "products/upsell_confirm.html", context)


@login_required
@require_POST
def upsell_add(request, code: str, region: str):
    """Add the region, then show its progress."""
    membership = membership_for_page(user=request.user, slug=request.POST.get("account", ""))  # 404
    permissions.require(membership, upsell.RIGHT)
    account = membership.account
    product, region_obj = _upsell_target(code, region)
    try:
        upsell.product_region_add(account=account, product=product, region=region_obj, actor=membership)
    except ValidationError as exc:
        context = {"account": account, "membership": membership, "product": product, "region": region_obj,
                   "back": _upsell_back(code, account), "errors": exc.messages}  # fmt: skip
        return render(request, "products/upsell_confirm.html", context, status=409)
    messages.success(request, f"{account.name} now has {product.name} in {region_obj.name}.")
    url = reverse("products:upsell_progress", args=[code, region_obj.code])
    return redirect(f"{url}?account={account.slug}")


@login_required
@require_safe
def upsell_progress(request, code: str, region: str):
    """The members' sync state in the region; the htmx partial refreshes itself every 2 s
    while something is on its way. For those who see sync state ("members.view_admin")."""
    membership = _context(request)["membership"]
    if membership is None:
        raise Http404("No such account")
    permissions.require(membership, "members.view_admin")
    account = membership.account
    product, region_obj = _upsell_target(code, region)
    context = {"account": account, "membership": membership, "product": product, "region": region_obj,
               "back": _upsell_back(code, account),
               "progress": upsell.region_progress(account=account, region=region_obj)}  # fmt: skip
    if request.headers.get("HX-Request"):
        return render(request, "products/upsell_progress_part.html", context)
    return render(request, "products/upsell_progress.html", context)
