"""Hostile review (issue 9, identity): the connected-app gate at the authorize step, against the
redirect URIs allauth itself accepts (a loopback port, an extra query parameter, a host's case),
people whose membership no longer grants the app, and ids that do not fit an integer column."""

import pytest
from allauth.idp.oidc.models import Token
from django.contrib.auth import get_user_model

from accounts.connected_apps import app_enable, connected_app_register
from accounts.models import AppEnablement, AuditEvent, Membership
from accounts.services import account_close, member_suspend, membership_add
from accounts.tests.oidc_helpers import AUTHORIZE_URL, authorize, query_of
from conftest import make_user, pkce_pair

pytestmark = pytest.mark.django_db

LOOPBACK = "http://127.0.0.1:8200/callback"
REDIRECT = "https://chat.example.test/oidc/callback"


@pytest.fixture
def chat():
    return connected_app_register(
        name="Team Chat", launch_url="https://chat.example.test/", redirect_uris=[REDIRECT, LOOPBACK]
    ).app


def _no_pkce(client, redirect_uri: str, **extra):
    return client.get(
        AUTHORIZE_URL,
        {"response_type": "code", "client_id": "app-team-chat", "redirect_uri": redirect_uri,
         "scope": "openid", "state": "s1", **extra},
    )  # fmt: skip


# Each is a redirect URI allauth matches to a registered one (RFC 8252 loopback ports, extra
# query parameters, hosts compared case-insensitively), so allauth would send a code there.
ACCEPTED_BY_ALLAUTH = [
    "http://127.0.0.1:8201/callback",
    REDIRECT + "?tenant=acme",
    "https://CHAT.example.test/oidc/callback",
]


@pytest.mark.parametrize("redirect_uri", ACCEPTED_BY_ALLAUTH)
def test_pkce_is_required_whatever_form_of_a_registered_redirect_uri_the_app_sends(
    client, chat, owner, bob, redirect_uri
):
    app_enable(account=owner.account, app=chat, actor=owner)
    client.force_login(bob)
    response = _no_pkce(client, redirect_uri)
    assert response.status_code == 302
    query = query_of(response)
    assert "code" not in query and query["error"] == "invalid_request"
    assert not Token.objects.filter(client_id="app-team-chat").exists()


@pytest.mark.parametrize("redirect_uri", ACCEPTED_BY_ALLAUTH)
def test_prompt_none_refusal_goes_to_the_app_for_any_redirect_uri_allauth_accepts(
    client, chat, acme, bob, redirect_uri
):
    client.force_login(bob)
    verifier, challenge = pkce_pair()
    response = authorize(client, "app-team-chat", redirect_uri, challenge=challenge, prompt="none")
    assert response.status_code == 302, response.content[:200]
    query = query_of(response)
    assert query["error"] == "access_denied" and "code" not in query


def _authorize(client):
    verifier, challenge = pkce_pair()
    return authorize(client, "app-team-chat", REDIRECT, challenge=challenge)


def test_a_suspended_member_of_the_enabling_account_is_refused_even_with_another_active_account(
    client, chat, owner, bob_m, globex
):
    app_enable(account=owner.account, app=chat, actor=owner)
    membership_add(account=globex, user=bob_m.user, role=Membership.Role.MEMBER)  # Globex: no app
    member_suspend(actor=owner, membership=bob_m)
    client.force_login(bob_m.user)
    response = _authorize(client)
    assert response.status_code == 403 and "code" not in response.get("Location", "")


def test_a_member_of_a_closed_account_is_refused(client, chat, owner, bob):
    app_enable(account=owner.account, app=chat, actor=owner)
    client.force_login(bob)
    assert _authorize(client).status_code == 302
    account_close(account=owner.account)
    response = _authorize(client)
    assert response.status_code == 403 and "code" not in response.get("Location", "")


def test_a_deactivated_identity_gets_no_code(client, chat, owner, bob):
    app_enable(account=owner.account, app=chat, actor=owner)
    client.force_login(bob)
    get_user_model().objects.filter(pk=bob.pk).update(is_active=False)
    response = _authorize(client)
    assert "code=" not in response.get("Location", "")


def test_an_enablement_of_another_account_grants_nothing(client, chat, acme, globex, carol):
    carol_owner = Membership.objects.get(account=globex, user=carol)
    app_enable(account=globex, app=chat, actor=carol_owner)
    dave = membership_add(account=acme, user=make_user("dave@acme.test"), role=Membership.Role.MEMBER)
    client.force_login(dave.user)
    assert _authorize(client).status_code == 403


@pytest.mark.parametrize(
    "path",
    ["/a/acme/apps/enable/99999999999999999999/", "/a/acme/apps/99999999999999999999/",
     "/a/acme/apps/99999999999999999999/disable/"],
)  # fmt: skip
def test_ids_too_big_for_the_database_are_a_404_not_a_500(client, owner, path):
    client.force_login(owner.user)
    assert client.get(path).status_code == 404
    assert client.post(path, {"audience": "everyone"}).status_code == 404


def test_an_operator_cannot_delete_an_enablement_in_django_admin_bypassing_the_audit(
    admin_client, chat, owner
):
    enablement = app_enable(account=owner.account, app=chat, actor=owner)
    url = f"/admin/accounts/appenablement/{enablement.pk}/delete/"
    response = admin_client.post(url, {"post": "yes"})
    still_there = AppEnablement.objects.filter(pk=enablement.pk).exists()
    # Either the admin refuses, or the removal went through the service and left its audit row.
    assert still_there or AuditEvent.objects.filter(action="app.disable").exists(), response.status_code
    bulk = admin_client.post(
        "/admin/accounts/appenablement/",
        {"action": "delete_selected", "_selected_action": [enablement.pk], "post": "yes"},
    )
    still_there = AppEnablement.objects.filter(pk=enablement.pk).exists()
    assert still_there or AuditEvent.objects.filter(action="app.disable").exists(), bulk.status_code


@pytest.mark.parametrize("order", ["app-last", "app-first"])
def test_a_second_client_id_naming_a_region_client_never_smuggles_a_refused_person_to_a_code(
    client, chat, globex, carol, tmp_path, order
):
    from accounts.tests.oidc_helpers import region_with_login_client

    region_with_login_client("eu", tmp_path, 8102, 9102)  # a real client for the gate to see
    client.force_login(carol)  # Globex has not enabled Team Chat
    verifier, challenge = pkce_pair()
    ids = ["region-eu", "app-team-chat"] if order == "app-last" else ["app-team-chat", "region-eu"]
    query = (
        f"response_type=code&client_id={ids[0]}&client_id={ids[1]}&scope=openid&state=s"
        f"&redirect_uri={REDIRECT}&code_challenge={challenge}&code_challenge_method=S256"
    )
    response = client.get(f"{AUTHORIZE_URL}?{query}")
    assert "code=" not in response.get("Location", "")


def test_a_head_request_without_pkce_gets_no_code_either(client, chat, owner, bob):
    # Django answers HEAD with the view's GET, so allauth would issue a code in the Location.
    app_enable(account=owner.account, app=chat, actor=owner)
    client.force_login(bob)
    response = client.head(
        AUTHORIZE_URL,
        {"response_type": "code", "client_id": "app-team-chat", "redirect_uri": REDIRECT,
         "scope": "openid", "state": "s1"},
    )  # fmt: skip
    assert "code=" not in response.get("Location", "")
    assert not Token.objects.filter(client_id="app-team-chat").exists()


def test_another_apps_client_id_or_credentials_never_carry_an_enabled_apps_grant(client, chat, owner, bob):
    from accounts.tests.oidc_helpers import TOKEN_URL, basic_auth

    wiki = connected_app_register(
        name="Wiki", launch_url="https://wiki.example.test/", redirect_uris=["https://wiki.example.test/cb"]
    )
    app_enable(account=owner.account, app=chat, actor=owner)  # Team Chat only
    client.force_login(bob)
    verifier, challenge = pkce_pair()
    # Wiki's client id with Team Chat's redirect URI: no code anywhere.
    response = authorize(client, wiki.app.client_id, REDIRECT, challenge=challenge)
    assert "code=" not in response.get("Location", "")
    # Team Chat's code redeemed with Wiki's credentials: refused.
    response = authorize(client, "app-team-chat", REDIRECT, challenge=challenge)
    code = query_of(response)["code"]
    tokens = client.post(
        TOKEN_URL,
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": verifier,
        },
        HTTP_AUTHORIZATION=basic_auth(wiki.app.client_id, wiki.client_secret),
    )
    assert tokens.status_code in (400, 401) and "access_token" not in tokens.json()
