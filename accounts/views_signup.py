"""/welcome/: the onboarding step after self-serve sign-up. A signed-in person who belongs to
no account names their company and picks its home region (accounts/signup.py), then goes
straight on to the catalog. Everyone else is sent on to their accounts: the page is only for
the first step."""

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from accounts import signup
from accounts.forms_signup import SignupCompleteForm


def catalog_url(slug: str) -> str:
    return f"{reverse('products:catalog')}?{urlencode({'account': slug})}"


def _page(request, form: SignupCompleteForm, *, status: int = 200, existing: str = ""):
    context = {"form": form, "existing_catalog": catalog_url(existing) if existing else ""}
    return render(request, "accounts/welcome.html", context, status=status)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def welcome(request):
    if request.user.is_staff:
        # Operators and sales are not customers: onboarding would make one the owner of a
        # customer account (the login redirect already keeps them away from this page).
        return redirect("dashboard")
    if request.method != "POST":
        if not signup.signup_pending(user=request.user):
            return redirect("dashboard")  # they have an account: onboarding is over
        return _page(request, SignupCompleteForm())
    form = SignupCompleteForm(request.POST)
    if not form.is_valid():
        return _page(request, form, status=400)
    try:
        account = signup.account_signup_complete(
            user=request.user,
            company_name=form.cleaned_data["company_name"],
            region=form.cleaned_data["region"],
        )
    except ValidationError as exc:
        form.add_error(None, exc)  # errors about a field land on that field
        if getattr(exc, "code", None) == "already_onboarded":  # a double submit or a second tab
            return _page(request, form, status=409, existing=exc.params["slug"])
        return _page(request, form, status=400)
    messages.success(
        request,
        f"Welcome to Atrium: {account.name} is ready (its name in every region: {account.slug}), "
        f"with {form.cleaned_data['region'].name} as its home region.",
    )
    return redirect(catalog_url(account.slug))
