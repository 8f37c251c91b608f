"""The email-first login and the social-login rules: who goes to which IdP, SSO-only refusing
passwords (also for a POST that skips the email step), domain-restricted linking, JIT
membership, and whether the IdP's MFA is trusted."""

from urllib.parse import parse_qs, urlparse

import pytest
from allauth.account.models import EmailAddress, Login
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.models import SocialAccount, SocialApp, SocialLogin
from django.contrib.sessions.backends.db import SessionStore
from django.test import RequestFactory

from accounts import sso
from accounts.adapters_social import SocialAccountAdapter
from accounts.models import AuditEvent, Membership, User
from accounts.models_security import SecurityPolicy
from accounts.models_sso import ClaimedDomain, SSOConnection
from accounts.services import account_create
from accounts.tests.sso_helpers import DiscoveryServer
from conftest import PASSWORD, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def idp(settings):
    settings.ATRIUM_SSO_ALLOW_INSECURE_ISSUERS = True
    with DiscoveryServer() as server:
        yield server


def _connect(account, issuer: str, *, verified=("acme.test",), enabled=True, trust=False, role="member"):
    for domain in verified:
        ClaimedDomain.objects.create(
            account=account, domain=domain, verification_token="t", status="verified"
        )
    app = SocialApp.objects.create(provider="openid_connect", provider_id=sso.provider_id_for(account),
                                   name=account.name, client_id="atrium", secret="s",
                                   settings={"server_url": issuer})  # fmt: skip
    return SSOConnection.objects.create(account=account, app=app, issuer=issuer, client_id="atrium",
                                        enabled=enabled, trust_idp_mfa=trust, default_role=role)  # fmt: skip


@pytest.fixture
def globex(carol):
    return account_create(name="Globex", slug="globex", owner=carol)


def _login(client, email, password=""):
    page = client.get("/accounts/login/")
    assert page.status_code == 200
    return client.post("/accounts/login/", {"login": email, "password": password})


# --- the login page -----------------------------------------------------------------------------
def test_the_login_page_asks_for_the_work_email_first(client):
    html = client.get("/accounts/login/").content.decode()
    assert html.index('name="login"') < html.index('name="password"')
    assert "single sign-on" in html
    assert "sso-" not in html  # no list of every customer's IdP


def test_an_email_of_a_verified_domain_goes_to_that_accounts_idp_with_login_hint(client, acme, idp):
    _connect(acme, idp.url)
    response = client.post("/accounts/login/?next=/a/acme/", {"login": "Dora@Acme.test", "password": ""})
    assert response.status_code == 302
    target = urlparse(response["Location"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == f"{idp.url}/authorize"
    query = parse_qs(target.query)
    assert query["login_hint"] == ["dora@acme.test"]
    assert query["client_id"] == ["atrium"]
    assert query["code_challenge_method"] == ["S256"]
    assert query["redirect_uri"] == ["http://testserver/accounts/oidc/sso-acme/login/callback/"]


def test_an_email_of_another_domain_is_asked_for_the_password(client, acme, idp):
    _connect(acme, idp.url)
    response = _login(client, "carol@globex.test")
    assert response.status_code == 200
    assert "Enter your password." in response.content.decode()
    assert 'value="carol@globex.test"' in response.content.decode()


def test_a_pending_claim_or_a_disabled_connection_routes_nobody(client, acme, idp):
    connection = _connect(acme, idp.url, verified=())
    ClaimedDomain.objects.create(account=acme, domain="acme.test", verification_token="t")
    assert "Enter your password." in _login(client, "dora@acme.test").content.decode()
    ClaimedDomain.objects.update(status="verified")
    SSOConnection.objects.filter(pk=connection.pk).update(enabled=False)
    assert "Enter your password." in _login(client, "dora@acme.test").content.decode()


def test_password_login_keeps_working_for_domains_without_sso_only(client, acme, alice, idp):
    _connect(acme, idp.url)
    response = _login(client, "alice@acme.test", PASSWORD)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(alice.pk)


def test_sso_only_accounts_refuse_the_password_for_their_domains_even_without_the_email_step(
    client, acme, alice, idp
):
    _connect(acme, idp.url)
    SecurityPolicy.objects.create(account=acme, sso_only=True)
    # A POST straight to the form with a (correct) password: refused with a clear error.
    response = client.post("/accounts/login/", {"login": "alice@acme.test", "password": PASSWORD})
    assert response.status_code == 200
    assert "single sign-on only" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_sso_only_does_not_touch_other_domains(client, acme, globex, carol, idp):
    _connect(acme, idp.url)
    SecurityPolicy.objects.create(account=acme, sso_only=True)
    assert _login(client, "carol@globex.test", PASSWORD).status_code == 302


@pytest.mark.parametrize("email", ["", "not-an-email", "a@", "x" * 300 + "@acme.test"])
def test_bad_emails_are_form_errors(client, email):
    response = client.post("/accounts/login/", {"login": email, "password": ""})
    assert response.status_code == 200
    assert "errorlist" in response.content.decode()


# --- the social login adapter -------------------------------------------------------------------
def _request():
    request = RequestFactory().get("/accounts/oidc/x/login/callback/")
    request.session = SessionStore()
    from django.contrib.auth.models import AnonymousUser

    request.user = AnonymousUser()
    return request


def _sociallogin(connection, email, *, sub="idp-sub-1", amr=None):
    claims = {"sub": sub, "email": email, "amr": amr or ["pwd"]}
    account = SocialAccount(provider=connection.app.provider_id, uid=sub,
                            extra_data={"id_token": claims, "userinfo": {"sub": sub, "email": email}})  # fmt: skip
    return SocialLogin(
        account=account, user=User(email=email), email_addresses=[EmailAddress(email=email, verified=True)]
    )


def test_an_idp_asserting_an_email_outside_the_verified_domains_is_refused(acme, globex, carol, idp):
    connection = _connect(acme, idp.url)
    sociallogin = _sociallogin(connection, "carol@globex.test")
    with pytest.raises(ImmediateHttpResponse) as refused:
        SocialAccountAdapter().pre_social_login(_request(), sociallogin)
    assert refused.value.response.status_code == 403
    assert "globex.test is not one of them" in refused.value.response.content.decode()
    assert not SocialAccount.objects.exists()
    assert not Membership.objects.filter(account=acme, user=carol).exists()
    assert AuditEvent.objects.filter(action="sso.login_refused", account=acme).exists()


def test_one_accounts_idp_cannot_sign_in_a_user_of_anothers_verified_domain(acme, globex, carol, idp):
    _connect(globex, idp.url + "/globex", verified=("globex.test",))
    acme_connection = _connect(acme, idp.url)
    with pytest.raises(ImmediateHttpResponse):
        SocialAccountAdapter().pre_social_login(
            _request(), _sociallogin(acme_connection, "carol@globex.test")
        )


def test_a_disabled_connection_refuses_logins(acme, idp):
    connection = _connect(acme, idp.url, enabled=False)
    with pytest.raises(ImmediateHttpResponse) as refused:
        SocialAccountAdapter().pre_social_login(_request(), _sociallogin(connection, "dora@acme.test"))
    assert "switched off" in refused.value.response.content.decode()


def test_an_existing_user_of_a_verified_domain_is_linked_and_keeps_their_membership(acme, bob, idp):
    connection = _connect(acme, idp.url, role="admin")
    sociallogin = _sociallogin(connection, "BOB@acme.test")
    SocialAccountAdapter().pre_social_login(_request(), sociallogin)
    assert sociallogin.user == bob
    assert SocialAccount.objects.get(provider="sso-acme", uid="idp-sub-1").user == bob
    # Already a member: the default role does not change them.
    assert Membership.objects.get(account=acme, user=bob).role == "member"


def test_an_existing_user_without_membership_gets_one_just_in_time(acme, idp):
    dora = make_user("dora@acme.test")
    connection = _connect(acme, idp.url, role="read_only")
    SocialAccountAdapter().pre_social_login(_request(), _sociallogin(connection, "dora@acme.test"))
    membership = Membership.objects.get(account=acme, user=dora)
    assert (membership.role, membership.status) == ("read_only", "active")
    assert AuditEvent.objects.filter(
        action="member.add", account=acme, target_label__contains="dora"
    ).exists()


def test_a_linked_identity_whose_address_moved_out_of_the_domain_is_refused(acme, bob, idp):
    connection = _connect(acme, idp.url)
    SocialAccount.objects.create(user=bob, provider="sso-acme", uid="idp-sub-1")
    User.objects.filter(pk=bob.pk).update(email="bob@private.example")
    sociallogin = _sociallogin(connection, "bob@acme.test")
    sociallogin.lookup()
    assert sociallogin.is_existing
    with pytest.raises(ImmediateHttpResponse):
        SocialAccountAdapter().pre_social_login(_request(), sociallogin)


def test_a_new_person_is_created_with_a_verified_address_and_a_membership(acme, idp):
    connection = _connect(acme, idp.url)
    sociallogin = _sociallogin(connection, "Erin@acme.test")
    adapter = SocialAccountAdapter()
    request = _request()
    adapter.pre_social_login(request, sociallogin)
    adapter.populate_user(request, sociallogin, {"email": "Erin@acme.test", "first_name": "Erin"})
    user = adapter.save_user(request, sociallogin)
    assert user.email == "erin@acme.test" and not user.has_usable_password()
    address = EmailAddress.objects.get(user=user)
    assert (address.email, address.primary, address.verified) == ("erin@acme.test", True, True)
    assert Membership.objects.get(account=acme, user=user).role == "member"


@pytest.mark.parametrize(
    ("amr", "trust", "expected"),
    [(["pwd", "mfa"], True, True), (["pwd", "otp"], True, True), (["hwk"], True, True),
     (["pwd", "mfa"], False, False), (["pwd"], True, False), ("mfa", True, False)],
)  # fmt: skip
def test_the_idps_mfa_counts_only_when_asserted_and_trusted(acme, idp, amr, trust, expected):
    connection = _connect(acme, idp.url, trust=trust)
    sociallogin = _sociallogin(connection, "dora@acme.test", amr=amr)
    login = Login(user=User(email="dora@acme.test"), signal_kwargs={"sociallogin": sociallogin})
    assert sso.federated_mfa_trusted(login) is expected
    assert sso.federated_state(sociallogin) == {"account": "acme", "mfa": expected}


def test_a_password_login_is_never_federated(acme, alice):
    assert sso.federated_mfa_trusted(Login(user=alice)) is False


def test_the_federated_flag_is_set_at_a_social_login_and_cleared_at_a_password_login(acme, alice, idp):
    from allauth.account.signals import user_logged_in

    connection = _connect(acme, idp.url, trust=True)
    request = _request()
    user_logged_in.send(sender=User, request=request, user=alice,
                        sociallogin=_sociallogin(connection, "alice@acme.test", amr=["mfa"]))  # fmt: skip
    assert request.session[sso.FEDERATED_KEY] == {"account": "acme", "mfa": True}
    user_logged_in.send(sender=User, request=request, user=alice)
    assert sso.FEDERATED_KEY not in request.session


def test_connecting_an_idp_identity_by_hand_is_refused(acme, alice, idp):
    connection = _connect(acme, idp.url)
    sociallogin = _sociallogin(connection, "alice@acme.test")
    sociallogin.state = {"process": "connect"}
    with pytest.raises(ImmediateHttpResponse) as refused:
        SocialAccountAdapter().pre_social_login(_request(), sociallogin)
    assert refused.value.response.status_code == 403
    assert not SocialAccount.objects.exists()
