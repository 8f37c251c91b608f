"""/a/<slug>/sso/: claim email domains, prove them, configure the account's OpenID Connect IdP.

Owners and admins only (`sso.manage`): anyone else in the account gets 403, another account's
slug or domain 404. Every write goes through accounts/sso.py (audited there)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from accounts import permissions, selectors, sso
from accounts.forms_sso import ConnectionForm, DomainClaimForm
from accounts.models import Membership
from accounts.models_sso import ClaimedDomain
from accounts.views import account_page


def _manager(request, slug: str) -> Membership:
    membership = selectors.membership_for_page(user=request.user, slug=slug)
    permissions.require(membership, "sso.manage")
    return membership


def _claim(membership: Membership, claim_id: int) -> ClaimedDomain:
    claim = (
        ClaimedDomain.objects.filter(account=membership.account, pk=claim_id)
        .select_related("account")
        .first()
    )
    if claim is None:
        raise Http404("No such domain")
    return claim


def _connection_form(connection, data=None) -> ConnectionForm:
    initial = {"default_role": Membership.Role.MEMBER, "enabled": True}
    if connection is not None:
        initial = {
            "issuer": connection.issuer,
            "client_id": connection.client_id,
            "default_role": connection.default_role,
            "trust_idp_mfa": connection.trust_idp_mfa,
            "enabled": connection.enabled,
        }
    return ConnectionForm(data, initial=initial, has_secret=connection is not None)


def _page(request, membership, *, claim_form=None, connection_form=None, status: int = 200):
    account = membership.account
    connection = sso.connection_of(account=account)
    context = {
        "account": account,
        "membership": membership,
        "domains": list(ClaimedDomain.objects.filter(account=account).select_related("verified_by")),
        "connection": connection,
        "claim_form": claim_form or DomainClaimForm(),
        "connection_form": connection_form or _connection_form(connection),
        "callback_url": request.build_absolute_uri(
            reverse("openid_connect_callback", kwargs={"provider_id": sso.provider_id_for(account)})
        ),
    }
    return render(request, "accounts/sso/index.html", context, status=status)


@account_page
@require_http_methods(["GET", "HEAD"])
def sso_page(request, slug: str):
    return _page(request, _manager(request, slug))


@account_page
@require_POST
def domain_claim(request, slug: str):
    membership = _manager(request, slug)
    form = DomainClaimForm(request.POST)
    if form.is_valid():
        try:
            claim = sso.domain_claim(actor=membership, domain=form.cleaned_data["domain"])
        except ValidationError as exc:
            form.add_error(None, exc)  # a {"domain": …} error lands on the field
        else:
            messages.success(request, f"Publish the TXT record below for {claim.domain}, then check it.")
            return redirect("sso:index", slug=slug)
    return _page(request, membership, claim_form=form, status=400)


@account_page
@require_POST
def domain_check(request, slug: str, claim_id: int):
    membership = _manager(request, slug)
    claim = _claim(membership, claim_id)
    try:
        claim = sso.domain_check(actor=membership, claim=claim)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        if claim.is_verified:
            messages.success(request, f"{claim.domain} is verified.")
        else:
            messages.error(request, f"{claim.domain} is not verified yet: {claim.last_check_error}")
    return redirect("sso:index", slug=slug)


@account_page
@require_POST
def domain_remove(request, slug: str, claim_id: int):
    membership = _manager(request, slug)
    claim = _claim(membership, claim_id)
    sso.domain_remove(actor=membership, claim=claim)
    messages.success(request, f"{claim.domain} is no longer claimed.")
    return redirect("sso:index", slug=slug)


@account_page
@require_POST
def connection_save(request, slug: str):
    membership = _manager(request, slug)
    connection = sso.connection_of(account=membership.account)
    form = _connection_form(connection, request.POST)
    if form.is_valid():
        try:
            sso.connection_save(actor=membership, **form.cleaned_data)
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                for field, errors in exc.error_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                form.add_error(None, exc)
        else:
            messages.success(request, "The identity provider is saved.")
            return redirect("sso:index", slug=slug)
    return _page(request, membership, connection_form=form, status=400)
