"""Customer SSO: claimed domains, their proof, and each account's OpenID Connect IdP (issue 11).

Contract used by other parts (keep these names and signatures):
- `federated_mfa_trusted(login) -> bool`: this allauth `Login` came through an account's SSO
  connection that trusts the IdP's MFA, and the IdP asserted MFA (its `amr`): Atrium's own MFA
  stage is then skipped (never asked twice), and the session's `amr` carries `fed` and `mfa`.
- On a login through a connection, `request.session["atrium_federated"] = {"account": <slug>,
  "mfa": <bool>}` (set when the person is signed in, removed on any other login).

Proof of a domain: a TXT record `atrium-verification=<token>` at `_atrium-challenge.<domain>`
(a name of its own, so it never collides with the domain's SPF or other verification records),
looked up through accounts/dns_check.py; or Atrium staff approve the claim in Django admin.

Each connection is one allauth `SocialApp` (provider `openid_connect`, provider_id
`sso-<account slug>`, settings `{"server_url": issuer}`) written here, never by hand: allauth's
provider then serves `/accounts/oidc/sso-<slug>/login/callback/` for it.
"""

import ipaddress
import re
import secrets
import socket
from urllib.parse import urlparse

import httpx
from allauth.socialaccount.models import SocialApp
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.dispatch import receiver
from django.utils import timezone

from accounts import dns_check, permissions
from accounts.audit import audit_record
from accounts.locks import account_lock
from accounts.models import Account, Membership, User
from accounts.models_sso import ClaimedDomain, SSOConnection

FEDERATED_KEY = "atrium_federated"
PROVIDER = "openid_connect"
# OpenID Connect / RFC 8176 `amr` values that mean the IdP checked more than a password.
MFA_AMR = frozenset({"mfa", "otp", "hwk", "swk", "sms", "tel", "fpt", "face", "iris", "retina", "sc", "pin"})
# Public mail services: nobody owns gmail.com for their company, so nobody may claim it.
WEBMAIL_DOMAINS = frozenset(
    {
        "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "live.com", "msn.com", "yahoo.com",
        "ymail.com", "icloud.com", "me.com", "mac.com", "aol.com", "proton.me", "protonmail.com",
        "pm.me", "gmx.com", "gmx.de", "gmx.net", "web.de", "mail.com", "yandex.com", "yandex.ru",
        "mail.ru", "qq.com", "163.com", "126.com", "zoho.com", "fastmail.com", "tutanota.com",
        "hey.com", "t-online.de", "orange.fr", "free.fr", "libero.it",
    }
)  # fmt: skip
JIT_ROLES = frozenset(Membership.Role) - {Membership.Role.OWNER}
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
DISCOVERY_TIMEOUT = 5.0


# --- domains ------------------------------------------------------------------------------------
def domain_normalize(raw: str) -> str:
    """Lower-case ASCII (IDNA) form of a domain, or ValidationError saying what is wrong."""
    value = (raw or "").strip().lower().rstrip(".")
    if value.startswith("@"):
        value = value[1:]
    if not value or len(value) > 253 or "\x00" in value:
        raise ValidationError("Enter a domain such as example.com.", code="invalid")
    try:
        ascii_form = value.encode("idna").decode("ascii")
    except UnicodeError:
        raise ValidationError("That is not a valid domain name.", code="invalid") from None
    labels = ascii_form.split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels) or labels[-1].isdigit():
        raise ValidationError("Enter a domain such as example.com (no scheme, path or @).", code="invalid")
    if ascii_form in WEBMAIL_DOMAINS:
        raise ValidationError(
            f"{ascii_form} is a public mail service; claim your company's own domain.", code="webmail"
        )
    return ascii_form


def email_domain(email: str) -> str:
    _, _, domain = (email or "").strip().lower().rpartition("@")
    try:
        return domain.encode("idna").decode("ascii")
    except UnicodeError:
        return domain


def _require_manager(actor: Membership, account: Account | None = None) -> None:
    if account is not None and actor.account_id != account.pk:
        raise PermissionDenied("That belongs to another account.")
    permissions.require(actor, "sso.manage")


def _audit_domain(action: str, claim: ClaimedDomain, actor: User | None, **changes) -> None:
    audit_record(
        action=action, account=claim.account, actor=actor, target_type="domain",
        target_id=claim.pk, target_label=claim.domain, **changes,
    )  # fmt: skip


@transaction.atomic
def domain_claim(*, actor: Membership, domain: str) -> ClaimedDomain:
    _require_manager(actor)
    account = account_lock(actor.account_id)
    domain = domain_normalize(domain)
    if ClaimedDomain.objects.filter(account=account, domain=domain).exists():
        raise ValidationError({"domain": f"{account.name} has already claimed {domain}."})
    if ClaimedDomain.objects.filter(domain=domain, status=ClaimedDomain.Status.VERIFIED).exists():
        raise ValidationError(
            {"domain": f"{domain} is already verified by another Atrium account; contact Atrium support."}
        )
    claim = ClaimedDomain.objects.create(
        account=account, domain=domain, verification_token=secrets.token_hex(16)
    )
    _audit_domain("sso.domain_claimed", claim, actor.user, after={"domain": domain, "status": claim.status})
    return claim


def _mark_verified(claim: ClaimedDomain, *, method: str, by: User | None) -> None:
    claim.status = ClaimedDomain.Status.VERIFIED
    claim.method = method
    claim.verified_at = timezone.now()
    claim.verified_by = by
    claim.last_check_error = ""
    try:
        # A savepoint: the partial unique index decides a race between two accounts.
        with transaction.atomic():
            claim.save()
    except IntegrityError:
        raise ValidationError(
            f"{claim.domain} is already verified by another Atrium account.", code="taken"
        ) from None


def domain_check(*, actor: Membership, claim: ClaimedDomain) -> ClaimedDomain:
    """Look the TXT record up now (outside any transaction: DNS may take seconds); verify the
    claim when the token is published."""
    _require_manager(actor, claim.account)
    if claim.is_verified:
        return claim
    lookup = dns_check.txt_lookup(name=claim.record_name)
    found = claim.record_value in lookup.values
    with transaction.atomic():
        claim = ClaimedDomain.objects.select_for_update().select_related("account").get(pk=claim.pk)
        claim.last_checked_at = timezone.now()
        if claim.is_verified:
            return claim
        if not found:
            claim.last_check_error = (
                lookup.error or f"{claim.record_name} does not hold {claim.record_value}."
            )[:300]
            claim.save(update_fields=["last_checked_at", "last_check_error"])
            return claim
        _mark_verified(claim, method=ClaimedDomain.Method.DNS, by=actor.user)
        _audit_domain("sso.domain_verified", claim, actor.user, before={"status": "pending"},
                      after={"status": "verified", "method": "dns"})  # fmt: skip
    return claim


@transaction.atomic
def domain_verify_by_staff(*, claim: ClaimedDomain, staff: User) -> ClaimedDomain:
    """Atrium staff vouch for a claim (Django admin action), e.g. when the customer cannot
    publish DNS records."""
    if not staff.is_staff:
        raise PermissionDenied("Only Atrium staff approve domain claims.")
    claim = ClaimedDomain.objects.select_for_update().select_related("account").get(pk=claim.pk)
    if claim.is_verified:
        return claim
    _mark_verified(claim, method=ClaimedDomain.Method.STAFF, by=staff)
    _audit_domain("sso.domain_verified", claim, staff, before={"status": "pending"},
                  after={"status": "verified", "method": "staff"})  # fmt: skip
    return claim


@transaction.atomic
def domain_remove(*, actor: Membership, claim: ClaimedDomain) -> None:
    _require_manager(actor, claim.account)
    claim = ClaimedDomain.objects.select_for_update().get(pk=claim.pk)
    _audit_domain(
        "sso.domain_removed", claim, actor.user, before={"domain": claim.domain, "status": claim.status}
    )
    claim.delete()


# --- the connection -----------------------------------------------------------------------------
def _issuer_allowed(issuer: str) -> str:
    parsed = urlparse(issuer)
    insecure_ok = getattr(settings, "ATRIUM_SSO_ALLOW_INSECURE_ISSUERS", False)
    if parsed.scheme not in ({"https", "http"} if insecure_ok else {"https"}) or not parsed.hostname:
        raise ValidationError({"issuer": "The issuer must be an https:// URL."})
    if parsed.query or parsed.fragment or parsed.username:
        raise ValidationError(
            {"issuer": "The issuer is a plain URL, without query, fragment or credentials."}
        )
    return issuer.rstrip("/")


def _issuer_host_public(issuer: str) -> None:
    """An account admin types the issuer, and Atrium fetches it (here, and allauth at every
    login): in production it must not point into Atrium's own network (loopback, private,
    link-local such as the cloud metadata service), or the form becomes a scanner of it. Tests
    and the loopback demo allow that with ATRIUM_SSO_ALLOW_INSECURE_ISSUERS."""
    if getattr(settings, "ATRIUM_SSO_ALLOW_INSECURE_ISSUERS", False):
        return
    parsed = urlparse(issuer)
    try:
        port = parsed.port or 443
    except ValueError:  # out of range, or not a number
        raise ValidationError({"issuer": "The issuer's port is not a valid port number."}) from None
    try:
        infos = socket.getaddrinfo(parsed.hostname, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise ValidationError({"issuer": f"{parsed.hostname} does not resolve in DNS."}) from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%")[0])
        if not address.is_global:
            raise ValidationError(
                {"issuer": f"{parsed.hostname} is an internal address; the issuer must be public."}
            )


def idp_discovery_fetch(*, issuer: str) -> dict:
    """The IdP's OpenID Connect discovery document, checked as a relying party would; the one
    place that calls a customer's IdP outside allauth's own login flow."""
    issuer = _issuer_allowed(issuer)
    _issuer_host_public(issuer)
    url = f"{issuer}/.well-known/openid-configuration"
    try:
        response = httpx.get(url, timeout=DISCOVERY_TIMEOUT, follow_redirects=False)
    except httpx.HTTPError as exc:
        raise ValidationError({"issuer": f"Could not reach {url} ({exc.__class__.__name__})."}) from None
    if response.status_code != 200:
        raise ValidationError(
            {"issuer": f"{url} answered HTTP {response.status_code}, not a discovery document."}
        )
    try:
        document = response.json()
    except ValueError:
        raise ValidationError({"issuer": f"{url} did not answer JSON."}) from None
    if not isinstance(document, dict):
        raise ValidationError({"issuer": f"{url} did not answer a discovery document."})
    if str(document.get("issuer", "")).rstrip("/") != issuer:
        raise ValidationError({"issuer": f"The IdP calls itself {document.get('issuer')!r}, not {issuer!r}."})
    missing = [
        key for key in ("authorization_endpoint", "token_endpoint", "jwks_uri") if not document.get(key)
    ]
    if missing:
        raise ValidationError({"issuer": f"The discovery document lacks {', '.join(missing)}."})
    return document


def provider_id_for(account: Account) -> str:
    return f"sso-{account.slug}"


def connection_of(*, account: Account) -> SSOConnection | None:
    return SSOConnection.objects.filter(account=account).select_related("app").first()


def connection_save(
    *,
    actor: Membership,
    issuer: str,
    client_id: str,
    secret: str,
    trust_idp_mfa: bool,
    default_role: str,
    enabled: bool,
) -> SSOConnection:
    """Create or update the account's IdP connection and its allauth app. An empty `secret`
    keeps the stored one (it is never shown back); the discovery document is fetched first."""
    _require_manager(actor)
    if default_role not in JIT_ROLES:
        raise ValidationError({"default_role": "Choose a role other than owner for new members."})
    client_id = client_id.strip()
    if not client_id:
        raise ValidationError({"client_id": "Enter the client id the IdP gave you."})
    document = idp_discovery_fetch(issuer=issuer)
    issuer = str(document["issuer"])
    with transaction.atomic():
        account = account_lock(actor.account_id)
        connection = SSOConnection.objects.select_for_update().filter(account=account).first()
        if connection is None and not secret:
            raise ValidationError({"secret": "Enter the client secret the IdP gave you."})
        before = _connection_state(connection) if connection else None
        app = (
            connection.app
            if connection
            else SocialApp(provider=PROVIDER, provider_id=provider_id_for(account))
        )
        app.name = f"{account.name} SSO"[:40]
        app.client_id = client_id
        if secret:
            app.secret = secret
        app.settings = {"server_url": issuer}
        app.save()
        if connection is None:
            connection = SSOConnection(account=account, app=app)
        connection.issuer = issuer
        connection.client_id = client_id
        connection.trust_idp_mfa = trust_idp_mfa
        connection.default_role = default_role
        connection.enabled = enabled
        connection.updated_at = timezone.now()
        connection.save()
        after = _connection_state(connection) | {"secret_changed": bool(secret)}
        audit_record(
            action="sso.connection_updated" if before else "sso.connection_created",
            account=account, actor=actor.user, target_type="sso_connection", target_id=connection.pk,
            target_label=issuer, before=before, after=after,
        )  # fmt: skip
    return connection


def _connection_state(connection: SSOConnection) -> dict:
    return {
        "issuer": connection.issuer,
        "client_id": connection.client_id,
        "trust_idp_mfa": connection.trust_idp_mfa,
        "default_role": connection.default_role,
        "enabled": connection.enabled,
    }


# --- login: routing and refusal -----------------------------------------------------------------
def verified_claim_for_email(*, email: str) -> ClaimedDomain | None:
    """The verified claim of an open account covering this email's domain (one at most)."""
    domain = email_domain(email)
    if not domain:
        return None
    return (
        ClaimedDomain.objects.filter(
            domain=domain, status=ClaimedDomain.Status.VERIFIED, account__closed_at__isnull=True
        )
        .select_related("account")
        .first()
    )


def connection_for_email(*, email: str) -> SSOConnection | None:
    """Where the email-first login sends this person: the enabled IdP of the account that
    verified their domain, or None (they use their password)."""
    claim = verified_claim_for_email(email=email)
    if claim is None:
        return None
    return (
        SSOConnection.objects.filter(account_id=claim.account_id, enabled=True)
        .select_related("app", "account")
        .first()
    )


def password_login_refused(*, email: str) -> Account | None:
    """The SSO-only account whose verified domain covers this email (password refused), or None.

    Judged by the person the password would sign in, not only by the text typed: allauth finds
    them through any of their addresses (a secondary bob@private.test) and case-insensitively in
    PostgreSQL, which folds look-alikes ("ivan@ınitech.test" finds ivan@initech.test)."""
    from allauth.account.utils import filter_users_by_email

    from accounts import security_policy

    addresses = [email, *(user.email for user in filter_users_by_email(email))]
    for address in dict.fromkeys(address.lower() for address in addresses):
        claim = verified_claim_for_email(email=address)
        if claim is not None and security_policy.sso_only(account=claim.account):
            return claim.account
    return None


def sso_login_redirect(request, *, connection: SSOConnection, email: str, next_url: str | None):
    """Send the person to their IdP (authorization code + PKCE, `login_hint`)."""
    import requests
    from allauth.socialaccount.adapter import get_adapter
    from allauth.socialaccount.providers.base import AuthProcess
    from django.shortcuts import render

    provider = get_adapter(request).get_provider(request, connection.app.provider_id)
    try:
        # allauth fetches the IdP's live discovery document here (not the one checked when the
        # connection was saved): the IdP may be down or answer nonsense since.
        response = provider.redirect(
            request, AuthProcess.LOGIN, next_url=next_url, auth_params={"login_hint": email}
        )
        target = urlparse(response.get("Location", ""))
        usable = target.scheme in {"https", "http"} and bool(target.hostname)
    except (requests.RequestException, ValueError, KeyError, TypeError, AttributeError):
        usable = False
    if not usable:
        reason = (
            f"{connection.account.name}'s identity provider cannot be reached right now; "
            "try again in a few minutes or ask your admin."
        )
        return render(request, "socialaccount/sso_refused.html", {"reason": reason}, status=502)
    return response


# --- login: who may come in, and their membership -------------------------------------------------
class SSORefused(Exception):
    """A social login this connection may not complete; `reason` is shown to the person."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def sso_login_check(*, connection: SSOConnection | None, email: str, email_verified: object = None) -> str:
    """The asserted email, admitted: the connection is enabled, its account open, and the
    email's domain is one that account verified. Anything else raises SSORefused (audited).
    `email_verified` is the IdP's claim: absent is accepted (many IdPs never send it), but an
    IdP that says the address is NOT verified (a self-service profile edit) is refused."""
    if connection is None:
        raise SSORefused("This sign-in method is not connected to an Atrium account.")
    account = connection.account
    email = (email or "").strip().lower()
    if not connection.enabled or account.is_closed:
        _audit_refused(
            connection, email, "connection disabled" if not connection.enabled else "account closed"
        )
        raise SSORefused(f"Single sign-on for {account.name} is switched off.")
    if not email or "@" not in email:
        _audit_refused(connection, email, "no email asserted")
        raise SSORefused("Your identity provider did not tell us your email address.")
    domain = email_domain(email)
    if not ClaimedDomain.objects.filter(
        account=account, domain=domain, status=ClaimedDomain.Status.VERIFIED
    ).exists():
        _audit_refused(connection, email, "domain not verified by this account")
        raise SSORefused(
            f"{account.name}'s identity provider may sign in only addresses of the domains "
            f"{account.name} has verified; {domain} is not one of them."
        )
    if email_verified is False or str(email_verified).strip().lower() == "false":
        _audit_refused(connection, email, "email not verified by the IdP")
        raise SSORefused(f"Your identity provider has not verified {email}; ask your admin.")
    return email


def _audit_refused(connection: SSOConnection, email: str, reason: str) -> None:
    audit_record(
        action="sso.login_refused", account=connection.account, target_type="sso_connection",
        target_id=connection.pk, target_label=email[:255], after={"reason": reason},
    )  # fmt: skip


def sso_member_ensure(*, connection: SSOConnection, user: User) -> Membership | None:
    """Just-in-time membership with the connection's default role, provisioned to the
    account's regions through accounts' membership service (so the ledger records it). An
    existing membership (any status: a suspended person stays suspended) is left alone."""
    from accounts.services import membership_add

    if Membership.objects.filter(account_id=connection.account_id, user=user).exists():
        return None
    try:
        return membership_add(account=connection.account, user=user, role=connection.default_role)
    except (ValidationError, IntegrityError):
        # A concurrent first login of the same person created it; or the account closed.
        return Membership.objects.filter(account_id=connection.account_id, user=user).first()


# --- login: what the IdP asserted ---------------------------------------------------------------
def connection_of_app(*, provider_id: str) -> SSOConnection | None:
    return (
        SSOConnection.objects.filter(app__provider=PROVIDER, app__provider_id=provider_id)
        .select_related("account", "app")
        .first()
    )


def asserted_claims(sociallogin) -> tuple[dict, dict]:
    """(ID token claims, userinfo claims) of an allauth OpenID Connect login."""
    extra = sociallogin.account.extra_data or {}
    return extra.get("id_token") or {}, extra.get("userinfo") or {}


def idp_asserted_mfa(sociallogin) -> bool:
    id_token, _ = asserted_claims(sociallogin)
    amr = id_token.get("amr") or []
    return isinstance(amr, list) and any(str(value).lower() in MFA_AMR for value in amr)


def federated_state(sociallogin) -> dict | None:
    connection = connection_of_app(provider_id=sociallogin.account.provider)
    if connection is None:
        return None
    trusted = bool(connection.trust_idp_mfa and idp_asserted_mfa(sociallogin))
    return {
        "account": connection.account.slug,
        "mfa": trusted and not _member_elsewhere(sociallogin.user, connection.account_id),
    }


def _member_elsewhere(user, account_id: int) -> bool:
    """Whether the person is an active member of another open account. The connection's trust
    in its IdP's MFA is that one account's choice: it must never stand in for Atrium's own MFA
    where another account's policy asks for it, so for such a person Atrium asks its own code."""
    if user is None or user.pk is None:
        return False  # signing up just in time: this account is their only one
    return (
        Membership.objects.filter(
            user_id=user.pk, status=Membership.Status.ACTIVE, account__closed_at__isnull=True
        )
        .exclude(account_id=account_id)
        .exists()
    )


def federated_mfa_trusted(login) -> bool:
    sociallogin = (getattr(login, "signal_kwargs", None) or {}).get("sociallogin")
    if sociallogin is None:
        return False
    if isinstance(sociallogin, dict):  # a paused login's serialized form
        from allauth.socialaccount.models import SocialLogin

        sociallogin = SocialLogin.deserialize(sociallogin)
    state = federated_state(sociallogin)
    return bool(state and state["mfa"])


def _on_login(sender, request, user, **kwargs) -> None:
    # Every login decides the flag afresh, so a password login never inherits a federated one.
    sociallogin = kwargs.get("sociallogin")
    state = federated_state(sociallogin) if sociallogin is not None else None
    if state is None:
        request.session.pop(FEDERATED_KEY, None)
    else:
        request.session[FEDERATED_KEY] = state


def _connect_login_receiver() -> None:
    from allauth.account.signals import user_logged_in

    receiver(user_logged_in, dispatch_uid="accounts.sso.federated_flag")(_on_login)


_connect_login_receiver()
