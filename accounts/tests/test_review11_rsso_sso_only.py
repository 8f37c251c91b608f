"""Hostile review of SSO-only (issue 11, reviewer rsso): the password must be refused for a
person of an SSO-only account's verified domain however they type who they are."""

import pytest
from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialApp

from accounts import sso
from accounts.models_security import SecurityPolicy
from accounts.models_sso import ClaimedDomain, SSOConnection
from accounts.services import account_create
from conftest import PASSWORD, make_user

pytestmark = pytest.mark.django_db


def _sso_only(account, domain: str):
    ClaimedDomain.objects.create(
        account=account, domain=sso.domain_normalize(domain), verification_token="t", status="verified"
    )
    app = SocialApp.objects.create(provider="openid_connect", provider_id=sso.provider_id_for(account),
                                   name=account.name, client_id="atrium", secret="s",
                                   settings={"server_url": "https://idp.example"})  # fmt: skip
    SSOConnection.objects.create(account=account, app=app, issuer="https://idp.example", client_id="atrium")
    SecurityPolicy.objects.create(account=account, sso_only=True)


def _password_login(client, login: str):
    client.get("/accounts/login/")
    return client.post("/accounts/login/", {"login": login, "password": PASSWORD})


def test_a_secondary_address_of_another_domain_does_not_open_the_password_door(client, acme, bob):
    _sso_only(acme, "acme.test")
    # Bob adds (and verifies) his private address, which allauth also signs in with.
    EmailAddress.objects.create(user=bob, email="bob@private.test", verified=True, primary=False)
    response = _password_login(client, "bob@private.test")
    assert "_auth_user_id" not in client.session
    assert response.status_code == 200
    assert "single sign-on only" in response.content.decode()


def test_a_dotless_i_spelling_of_the_domain_does_not_open_the_password_door(client):
    # PostgreSQL matches "ivan@ınitech.test" to ivan@initech.test case-insensitively, while
    # the SSO-only check saw another domain (xn--nitech-…).
    ivan = make_user("ivan@initech.test")
    initech = account_create(name="Initech", slug="initech", owner=ivan)
    _sso_only(initech, "initech.test")
    response = _password_login(client, "ivan@ınitech.test")
    assert "_auth_user_id" not in client.session
    assert response.status_code == 200


def test_the_real_address_is_still_refused_and_other_people_still_sign_in(client, acme, carol):
    _sso_only(acme, "acme.test")
    assert "_auth_user_id" not in (_password_login(client, "alice@acme.test") and client.session)
    response = _password_login(client, "carol@globex.test")
    assert response.status_code == 302


def test_an_invitation_to_an_sso_only_domain_never_creates_a_password_identity(client, acme, alice):
    from accounts.models import Membership, User
    from accounts.tests.invitations_helpers import invite

    _sso_only(acme, "acme.test")
    invitation = invite(acme, Membership.objects.get(account=acme, user=alice), "dora@acme.test")
    path = f"/invite/{invitation.link_token}/"
    # The invitee goes through the login page (email first -> Acme's IdP), then back here.
    page = client.get(path)
    assert page.status_code == 302 and page["Location"].startswith("/accounts/login/")
    response = client.post(
        path, {"first_name": "Dora", "last_name": "D", "password": PASSWORD, "password_again": PASSWORD}
    )
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert not User.objects.filter(email="dora@acme.test").exists()
    assert "_auth_user_id" not in client.session
