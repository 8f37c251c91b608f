"""The catalog pages: every product, where it is offered, and what the current account owns
in each region. The account is `?account=<slug>` among the person's own, else their first.
Admins start a free trial from the product page (POST, through products.trials); where the
account's trial policy lets them, members request one and admins approve or decline it on the
trial requests page (products.trial_requests)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts import permissions
from accounts.selectors import membership_for_page
from products import crosssell, selectors, trial_requests, trials, upsell
from products.forms import TrialDeclineForm, TrialPolicyForm, TrialRequestForm, TrialStartForm


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
    context["recommendations"] = crosssell.catalog_recommendations(
        account=context["account"], entries=context["entries"]
    )
    return render(request, "products/catalog.html", context)


def _detail(request, code: str, context: dict, *, form=None, errors=(), request_errors=(), status: int = 200):
    entry = selectors.catalog_entry(code=code, account=context["account"])
    membership = context.get("membership")
    context["entry"] = entry
    trial = context["trial"] = selectors.trial_offer(entry=entry, membership=membership)
    context["trial_request"] = trial_requests.trial_request_offer(
        membership=membership, product=entry.product, trial_available=trial.available and not trial.can_start
    )
    context["manages_trials"] = permissions.can(membership, trial_requests.POLICY_RIGHT)
    context["trial_errors"] = list(errors)
    context["request_errors"] = list(request_errors)
    context["chosen"] = form.data.getlist("regions") if form is not None else []
    context["note"] = form.data.get("note", "") if form is not None else ""
    return render(request, "products/detail.html", context, status=status)


@login_required
@require_safe
def product_detail(request, code: str):
    return _detail(request, code, _context(request))


def _trial_post(request, code: str):
    """What a trial start or a trial request posts about: the poster's membership of the account
    named in the form (404 otherwise), the product (404 unless it has a trial), the regions it is
    offered in by code, and the product page's context."""
    membership = membership_for_page(user=request.user, slug=request.POST.get("account", ""))
    product = selectors.product_for_trial(code=code)
    offered = {link.region.code: link.region for link in product.availability.all()}
    context = {"accounts": selectors.catalog_accounts(user=request.user), "account": membership.account,
               "membership": membership}  # fmt: skip
    return membership, product, offered, context


@login_required
@require_POST
def trial_start(request, code: str):
    """Start the account's free trial in the regions chosen; back to the product page."""
    membership, product, offered, context = _trial_post(request, code)
    permissions.require(membership, "members.manage")
    account = membership.account
    form = TrialStartForm(request.POST, region_codes=sorted(offered))
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


# Who may start trials, and members' trial requests (products.trial_requests) ----------------------


def _page_membership(request):
    """The membership named by ?account= (GET) or the form's `account` (POST); 404 otherwise."""
    if request.method == "POST":
        return membership_for_page(user=request.user, slug=request.POST.get("account", ""))
    membership = _context(request)["membership"]
    if membership is None:
        raise Http404("No such account")
    return membership


def _requests_url(account) -> str:
    return f"{reverse('products:trial_requests')}?account={account.slug}"


@login_required
@require_http_methods(["GET", "POST"])
def trial_policy(request):
    """Owners and admins choose who starts trials: admins only, or members by request."""
    membership = _page_membership(request)
    permissions.require(membership, trial_requests.POLICY_RIGHT)
    account = membership.account
    current = trial_requests.trial_policy_of(account=account)
    form = TrialPolicyForm(request.POST or None, initial={"account": account.slug, "policy": current})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                trial_requests.trial_policy_set(actor=membership, policy=form.cleaned_data["policy"])
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, f"Saved who may start trials in {account.name}.")
                return redirect(f"{reverse('products:trial_policy')}?account={account.slug}")
        status = 400
    context = {"account": account, "membership": membership, "form": form, "current": current,
               "requests_url": _requests_url(account)}  # fmt: skip
    return render(request, "products/trial_policy.html", context, status=status)


@login_required
@require_POST
def trial_request_create(request, code: str):
    """A member asks the account's admins for a free trial; back to the product page."""
    membership, product, offered, context = _trial_post(request, code)
    account = membership.account
    form = TrialRequestForm(request.POST, region_codes=sorted(offered))
    if not form.is_valid():
        errors = [error for field_errors in form.errors.values() for error in field_errors]
        return _detail(request, code, context, form=form, request_errors=errors, status=400)
    regions = [offered[region_code] for region_code in form.cleaned_data["regions"]]
    try:
        trial_requests.trial_request_create(
            actor=membership, product=product, regions=regions, note=form.cleaned_data["note"]
        )
    except ValidationError as exc:
        return _detail(request, code, context, form=form, request_errors=exc.messages, status=400)
    messages.success(request, f"Your request for {product.name} went to the admins of {account.name}.")
    return redirect(f"{reverse('products:detail', args=[code])}?account={account.slug}")


def _requests_page(request, membership, *, errors=(), status: int = 200):
    requests = trial_requests.trial_requests_visible(membership=membership)
    page = Paginator(requests, 50).get_page(request.GET.get("page"))
    context = {"account": membership.account, "membership": membership, "page": page, "errors": list(errors),
               "decides": permissions.can(membership, trial_requests.DECIDE_RIGHT),
               "sees_all": permissions.can(membership, trial_requests.VIEW_ALL_RIGHT),
               "policy": trial_requests.trial_policy_of(account=membership.account)}  # fmt: skip
    return render(request, "products/trial_requests.html", context, status=status)


@login_required
@require_safe
def trial_requests_list(request):
    """The account's trial requests: every one for owners, admins and read-only, one's own else."""
    return _requests_page(request, _page_membership(request))


@login_required
@require_POST
def trial_request_approve(request, pk: int):
    membership = _page_membership(request)
    permissions.require(membership, trial_requests.DECIDE_RIGHT)
    trial_request = trial_requests.trial_request_of_account(membership=membership, pk=pk)  # 404
    try:
        trial_requests.trial_request_approve(actor=membership, trial_request=trial_request)
    except ValidationError as exc:
        return _requests_page(request, membership, errors=exc.messages, status=409)
    messages.success(
        request, f"Approved: {membership.account.name}'s trial of {trial_request.product.name} has started."
    )
    return redirect(_requests_url(membership.account))


@login_required
@require_http_methods(["GET", "POST"])
def trial_request_decline(request, pk: int):
    """GET: the form asking for a reason; POST: decline (the requester is mailed the reason)."""
    membership = _page_membership(request)
    permissions.require(membership, trial_requests.DECIDE_RIGHT)
    trial_request = trial_requests.trial_request_of_account(membership=membership, pk=pk)  # 404
    form = TrialDeclineForm(request.POST or None, initial={"account": membership.account.slug})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                trial_requests.trial_request_decline(
                    actor=membership, trial_request=trial_request, reason=form.cleaned_data["reason"]
                )
            except ValidationError as exc:
                form.add_error(None, exc.messages)
            else:
                messages.success(request, f"Declined {trial_request.requester_email}'s request.")
                return redirect(_requests_url(membership.account))
        status = 400
    context = {"account": membership.account, "membership": membership, "trial_request": trial_request,
               "form": form, "back": _requests_url(membership.account)}  # fmt: skip
    return render(request, "products/trial_request_decline.html", context, status=status)
