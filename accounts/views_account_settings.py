"""/a/<slug>/settings/: rename the account (owners, admins) and close it (owners)."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render

from accounts import account_settings, permissions, selectors
from accounts.forms_settings import AccountCloseForm, AccountRenameForm
from accounts.models import Membership
from accounts.views import account_page


def _settings_page(request, membership: Membership, rename_form: AccountRenameForm, status: int = 200):
    context = {
        "account": membership.account,
        "membership": membership,
        "perms": permissions.allowed_actions(membership),
        "rename_form": rename_form,
    }
    return render(request, "accounts/settings.html", context, status=status)


@account_page
def settings_page(request, slug: str):
    membership = selectors.membership_for_page(user=request.user, slug=slug)
    if not (permissions.can(membership, "account.rename") or permissions.can(membership, "account.close")):
        raise PermissionDenied("Only owners and admins change the account's settings.")
    if request.method != "POST":
        return _settings_page(
            request, membership, AccountRenameForm(initial={"name": membership.account.name})
        )
    permissions.require(membership, "account.rename")
    form = AccountRenameForm(request.POST)
    if form.is_valid():
        try:
            account = account_settings.account_settings_rename(
                actor=membership, name=form.cleaned_data["name"]
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"The account is now called {account.name}.")
            return redirect("accounts:settings", slug=slug)
    return _settings_page(request, membership, form, status=400)


@account_page
def account_close(request, slug: str):
    membership = selectors.membership_for_page(user=request.user, slug=slug)
    permissions.require(membership, "account.close")
    account = membership.account
    form = AccountCloseForm(request.POST or None, account=account)
    if request.method == "POST" and form.is_valid():
        try:
            account_settings.account_settings_close(actor=membership)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request, f"{account.name} is closed; its members are being removed from every region."
            )
            return redirect("dashboard")
    context = {"account": account, "membership": membership, "form": form}
    return render(request, "accounts/account_close.html", context, status=400 if form.is_bound else 200)
