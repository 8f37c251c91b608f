"""Hostile review of customer SSO (issue 11, reviewer rsso): an account's IdP tries to sign in
as people it does not own, to mint verified addresses it never proved, or to make Atrium fetch
internal addresses."""

import socket
import threading

import pytest
from allauth.account.models import EmailAddress
from allauth.core import context as allauth_context
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import get_adapter as get_social_adapter
from allauth.socialaccount.internal.flows.login import complete_login
from allauth.socialaccount.models import SocialAccount, SocialApp
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.db import SessionStore
from django.core.exceptions import ValidationError
from django.test import RequestFactory

from accounts import sso
from accounts.adapters_social import SocialAccountAdapter
from accounts.models import AuditEvent, Membership, User
from accounts.models_sso import ClaimedDomain, SSOConnection
from accounts.services import account_create
from accounts.tests.sso_helpers import DiscoveryServer
from conftest import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def idp(settings):
    settings.ATRIUM_SSO_ALLOW_INSECURE_ISSUERS = True
    with DiscoveryServer() as server:
        yield server


def _connect(account, issuer: str, *, verified: tuple[str, ...]):
    for domain in verified:
        ClaimedDomain.objects.create(
            account=account, domain=sso.domain_normalize(domain), verification_token="t", status="verified"
        )
    app = SocialApp.objects.create(provider="openid_connect", provider_id=sso.provider_id_for(account),
                                   name=account.name, client_id="atrium", secret="s",
                                   settings={"server_url": issuer})  # fmt: skip
    return SSOConnection.objects.create(account=account, app=app, issuer=issuer, client_id="atrium",
                                        enabled=True, default_role="member")  # fmt: skip


def _request():
    request = RequestFactory().get("/accounts/oidc/x/login/callback/")
    request.session = SessionStore()
    request.user = AnonymousUser()
    request._messages = FallbackStorage(request)
    return request


def _sociallogin(request, connection, *, userinfo: dict, id_token: dict):
    """A SocialLogin built by allauth's own OpenID Connect provider from what the IdP answered."""
    provider = get_social_adapter().get_provider(request, connection.app.provider_id)
    sociallogin = provider.sociallogin_from_response(request, {"userinfo": userinfo, "id_token": id_token})
    sociallogin.state = {"process": "login"}
    return sociallogin


def _complete(request, sociallogin):
    """allauth's callback flow after the token exchange (what the callback view runs)."""
    with allauth_context.request_context(request):
        return complete_login(request, sociallogin)


# --- an IDN look-alike domain must not reach another account's person ---------------------------
def test_an_idp_of_a_dotless_i_lookalike_domain_cannot_sign_in_the_real_domains_person(idp):
    # Ivan belongs to Initech. Mallory's account proves "ınitech.test" (dotless ı: a different
    # domain, xn--nitech-…, that Mallory can register and publish TXT records for). PostgreSQL
    # upper-cases ı to I, so a case-insensitive lookup of "ivan@ınitech.test" finds Ivan.
    ivan = make_user("ivan@initech.test")
    account_create(name="Initech", slug="initech", owner=ivan)
    mallory = make_user("mallory@evil.test")
    evil = account_create(name="Evil", slug="evil", owner=mallory)
    connection = _connect(evil, idp.url, verified=("ınitech.test",))
    assert ClaimedDomain.objects.get(account=evil).domain != "initech.test"
    request = _request()
    sociallogin = _sociallogin(
        request, connection,
        userinfo={"sub": "m-1", "email": "ivan@ınitech.test", "email_verified": True},
        id_token={"sub": "m-1", "email": "ivan@ınitech.test"},
    )  # fmt: skip
    _complete(request, sociallogin)
    assert not SocialAccount.objects.filter(user=ivan).exists()
    assert str(request.session.get("_auth_user_id")) != str(ivan.pk)
    assert not Membership.objects.filter(account=evil, user=ivan).exists()


# --- the IdP says the address is not verified --------------------------------------------------
def test_an_address_the_idp_marks_unverified_is_refused_and_never_linked(acme, bob, idp):
    connection = _connect(acme, idp.url, verified=("acme.test",))
    request = _request()
    sociallogin = _sociallogin(
        request, connection,
        userinfo={"sub": "x-1", "email": "bob@acme.test", "email_verified": False},
        id_token={"sub": "x-1", "email": "bob@acme.test", "email_verified": False},
    )  # fmt: skip
    with pytest.raises(ImmediateHttpResponse) as refused:
        SocialAccountAdapter().pre_social_login(request, sociallogin)
    assert refused.value.response.status_code == 403
    assert not SocialAccount.objects.filter(user=bob).exists()
    assert AuditEvent.objects.filter(action="sso.login_refused", account=acme).exists()


# --- no signup form where the person could type any address -------------------------------------
def test_an_idp_that_puts_the_email_only_in_the_id_token_gets_auto_signup_not_a_form(acme, idp):
    connection = _connect(acme, idp.url, verified=("acme.test",))
    request = _request()
    # userinfo answers without an email; the ID token carries it (both are allowed by OIDC).
    sociallogin = _sociallogin(
        request, connection, userinfo={"sub": "n-1"}, id_token={"sub": "n-1", "email": "nina@acme.test"}
    )
    response = _complete(request, sociallogin)
    # allauth's social signup form would let the person type any address, which Atrium would
    # then store as verified: it must never be offered.
    assert "3rdparty/signup" not in response.get("Location", "")
    assert "socialaccount_sociallogin" not in request.session
    nina = User.objects.get(email="nina@acme.test")
    assert EmailAddress.objects.get(user=nina).verified
    assert Membership.objects.filter(account=acme, user=nina).exists()


def test_a_signup_form_can_never_store_an_address_the_idp_did_not_assert(acme, idp):
    connection = _connect(acme, idp.url, verified=("acme.test",))
    request = _request()
    sociallogin = _sociallogin(
        request, connection,
        userinfo={"sub": "n-2", "email": "nina@acme.test"}, id_token={"sub": "n-2", "email": "nina@acme.test"},
    )  # fmt: skip
    adapter = SocialAccountAdapter()
    adapter.pre_social_login(request, sociallogin)

    class TypedForm:  # what allauth's social signup form hands save_user
        cleaned_data = {"email": "ceo@bigcorp.test", "email2": "ceo@bigcorp.test"}

    with pytest.raises(ImmediateHttpResponse):
        adapter.save_user(request, sociallogin, form=TypedForm())
    assert not EmailAddress.objects.filter(email="ceo@bigcorp.test").exists()
    assert not User.objects.filter(email="ceo@bigcorp.test").exists()


# --- SSRF through issuer discovery -------------------------------------------------------------
@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "10.0.0.1", "169.254.169.254", "[::1]"])
def test_an_issuer_on_an_internal_address_is_refused_before_any_request(host, settings):
    settings.ATRIUM_SSO_ALLOW_INSECURE_ISSUERS = False
    with pytest.raises(ValidationError) as refused:
        sso.idp_discovery_fetch(issuer=f"https://{host}:9/realms/x")
    assert "internal" in " ".join(refused.value.messages)


def test_an_internal_issuer_is_never_contacted(settings):
    settings.ATRIUM_SSO_ALLOW_INSECURE_ISSUERS = False
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(2)
    port = listener.getsockname()[1]
    contacted = []

    def accept():
        try:
            conn, _ = listener.accept()
            contacted.append(True)
            conn.close()
        except OSError:
            pass

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    with pytest.raises(ValidationError):
        sso.idp_discovery_fetch(issuer=f"https://127.0.0.1:{port}")
    thread.join(3)
    listener.close()
    assert contacted == []


# --- the customer's IdP is down or answers nonsense at login time --------------------------------
@pytest.mark.parametrize("breakage", ["down", "not_json", "endpoint_not_a_string"])
def test_the_email_first_login_answers_a_clear_page_when_the_idp_is_broken(client, acme, settings, breakage):
    # allauth fetches the live discovery document at every login: what was checked when the
    # admin saved the connection may be gone or changed since.
    settings.ATRIUM_SSO_ALLOW_INSECURE_ISSUERS = True
    server = DiscoveryServer()
    _connect(acme, server.url, verified=("acme.test",))
    if breakage == "not_json":
        server.raw = "<html>maintenance</html>"
    elif breakage == "endpoint_not_a_string":
        server.document = server.valid_document() | {"authorization_endpoint": {"url": "x"}}
    if breakage == "down":
        server.httpd.server_close()
        response = client.post("/accounts/login/", {"login": "dora@acme.test", "password": ""})
    else:
        with server:
            response = client.post("/accounts/login/", {"login": "dora@acme.test", "password": ""})
    assert response.status_code == 502
    assert "identity provider" in response.content.decode()


# --- a customer's IdP never signs in Atrium staff ------------------------------------------------
@pytest.mark.parametrize("flag", ["is_staff", "is_superuser"])
def test_a_customers_idp_never_signs_in_atrium_staff_even_of_its_domain(acme, idp, flag):
    operator = make_user("ops@acme.test")
    User.objects.filter(pk=operator.pk).update(**{flag: True})
    connection = _connect(acme, idp.url, verified=("acme.test",))
    request = _request()
    sociallogin = _sociallogin(
        request, connection,
        userinfo={"sub": "o-1", "email": "ops@acme.test"}, id_token={"sub": "o-1", "email": "ops@acme.test"},
    )  # fmt: skip
    response = _complete(request, sociallogin)
    assert response.status_code == 403
    assert not SocialAccount.objects.filter(user=operator).exists()
    assert str(request.session.get("_auth_user_id")) != str(operator.pk)
    assert not Membership.objects.filter(account=acme, user=operator).exists()


# --- bad issuer input is a form error, never a 500 ----------------------------------------------
@pytest.mark.parametrize("insecure", [True, False])
@pytest.mark.parametrize(
    "issuer", ["https://idp.example:99999", "https://idp.example:0x50", "http://[fe80::1%eth0]:8443"]
)
def test_an_issuer_with_an_impossible_port_is_a_form_error(client, acme, alice, settings, insecure, issuer):
    settings.ATRIUM_SSO_ALLOW_INSECURE_ISSUERS = insecure
    client.force_login(alice)
    response = client.post(
        "/a/acme/sso/connection/",
        {"issuer": issuer, "client_id": "x", "secret": "s", "default_role": "member", "enabled": "on"},
    )
    assert response.status_code == 400
    assert not SSOConnection.objects.exists()
