"""/a/<slug>/security/: the account security policy (owners and admins). Saving is two steps:
"Preview" shows who the new settings would lock out, "Confirm and save" writes the version."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render

from accounts import permissions, security_policy, selectors
from accounts.forms_security import SecurityPolicyForm
from accounts.models import Membership
from accounts.views import account_page


def _page(request, membership: Membership, form: SecurityPolicyForm, *, preview=None, status: int = 200):
    account = membership.account
    policy = security_policy.policy_of(account=account)
    context = {
        "account": account,
        "membership": membership,
        "policy": policy,
        "grace_ends_at": security_policy.mfa_grace_ends_at(policy) if policy.pk else None,
        "form": form,
        "preview": preview,
        "regions": security_policy.policy_regions_state(account=account),
        "versions": security_policy.policy_versions(account=account),
    }
    return render(request, "accounts/security/policy.html", context, status=status)


@account_page
def policy_page(request, slug: str):
    membership = selectors.membership_for_page(user=request.user, slug=slug)
    permissions.require(membership, "security.manage")
    account = membership.account
    if request.method != "POST":
        return _page(
            request, membership, SecurityPolicyForm.for_policy(security_policy.policy_of(account=account))
        )
    form = SecurityPolicyForm(request.POST)
    if not form.is_valid():
        return _page(request, membership, form, status=400)
    data = form.policy_settings()
    if request.POST.get("step") != "confirm":
        preview = security_policy.security_policy_preview(
            account=account,
            mfa_required=data["mfa_required"],
            mfa_grace_days=data["mfa_grace_days"],
            sso_only=data["sso_only"],
        )
        return _page(request, membership, form, preview=preview)
    try:
        version = security_policy.security_policy_save(actor=membership, settings=data)
    except ValidationError as exc:
        form.add_error(None, exc)
        return _page(request, membership, form, status=400)
    if version is None:
        messages.info(request, "Nothing changed; the policy stays as it was.")
    else:
        messages.success(request, f"Security policy version {version.number} saved; every region gets it.")
    return redirect("security:policy", slug=slug)
