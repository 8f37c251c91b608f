"""Connected SaaS apps: the services (registration, enabling, audiences), the selectors, and the
gate at Atrium's authorize endpoint, driven through allauth's real views and token endpoint."""

import io

import pytest
from allauth.idp.oidc.models import Client, Token
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command

from accounts.connected_apps import (
    admins_to_ask,
    app_audience_set,
    app_disable,
    app_enable,
    app_open_allowed,
    apps_launchable,
    connected_app_delete,
    connected_app_register,
    connected_app_secret_rotate,
    connected_app_update,
)
from accounts.groups import group_create, group_members_add
from accounts.models import AppEnablement, AuditEvent, ConnectedApp, Membership, User
from accounts.services import member_suspend, membership_add
from accounts.tests.oidc_helpers import (
    TOKEN_URL,
    authorize,
    basic_auth,
    query_of,
    region_with_login_client,
    unverified_claims,
)
from conftest import make_user, pkce_pair

pytestmark = pytest.mark.django_db

REDIRECT = "https://chat.example.test/oidc/callback"


@pytest.fixture
def chat():
    return connected_app_register(
        name="Team Chat", description="Chat for teams", icon="💬",
        launch_url="https://chat.example.test/", redirect_uris=[REDIRECT],
    )  # fmt: skip


@pytest.fixture
def dave(acme):
    user = make_user("dave@acme.test", "Dave", "Diaz")
    return membership_add(account=acme, user=user, role=Membership.Role.MEMBER)


# --- registration (staff) -------------------------------------------------------------------------
def test_registering_an_app_creates_a_confidential_code_flow_client_with_a_hashed_secret(chat):
    client = chat.app.client
    assert client.id == "app-team-chat"
    assert client.type == Client.Type.CONFIDENTIAL
    assert client.get_grant_types() == [Client.GrantType.AUTHORIZATION_CODE]
    assert client.get_scopes() == ["openid", "email", "profile"]
    assert client.get_redirect_uris() == [REDIRECT]
    assert client.secret.startswith("hmac-sha256$") and chat.client_secret not in client.secret
    assert Client.objects.get(pk=client.pk).check_secret(chat.client_secret)
    event = AuditEvent.objects.get(action="connected_app.register")
    assert event.target_label == "Team Chat" and event.after["client_id"] == "app-team-chat"


def test_an_app_name_is_taken_case_insensitively_and_its_client_id_never_collides(chat):
    with pytest.raises(ValidationError) as taken:
        connected_app_register(name="team chat", launch_url="https://x.test/", redirect_uris=[REDIRECT])
    assert "already registered" in str(taken.value)
    other = connected_app_register(name="Team-Chat!", launch_url="https://x.test/", redirect_uris=[REDIRECT])
    assert other.app.client_id == "app-team-chat-2"


@pytest.mark.parametrize(
    "field, values",
    [
        ("launch_url", {"launch_url": "javascript:alert(1)"}),
        ("redirect_uris", {"redirect_uris": []}),
        ("redirect_uris", {"redirect_uris": ["https://chat.test/cb#frag"]}),
        ("redirect_uris", {"redirect_uris": ["ftp://chat.test/cb"]}),
        ("name", {"name": "  "}),
    ],
)
def test_bad_registration_input_is_a_field_error_and_creates_nothing(field, values):
    good = {"name": "Wiki", "launch_url": "https://wiki.test/", "redirect_uris": ["https://wiki.test/cb"]}
    with pytest.raises(ValidationError) as refused:
        connected_app_register(**{**good, **values})
    assert field in refused.value.message_dict
    assert not ConnectedApp.objects.exists() and not Client.objects.exists()


def test_updating_an_app_changes_its_client_and_audits_only_what_changed(chat):
    connected_app_update(
        app=chat.app, name="Team Chat", description="Chat for teams", icon="💬",
        launch_url="https://chat.example.test/home", redirect_uris=[REDIRECT, REDIRECT + "2"],
    )  # fmt: skip
    assert Client.objects.get(pk=chat.app.client_id).get_redirect_uris() == [REDIRECT, REDIRECT + "2"]
    event = AuditEvent.objects.get(action="connected_app.update")
    assert set(event.after) == {"launch_url", "redirect_uris"}


def test_rotating_the_secret_makes_the_old_one_useless(chat):
    new = connected_app_secret_rotate(app=chat.app)
    client = Client.objects.get(pk=chat.app.client_id)
    assert client.check_secret(new) and not client.check_secret(chat.client_secret)


def test_deleting_an_app_removes_its_client_and_every_enablement(chat, owner):
    app_enable(account=owner.account, app=chat.app, actor=owner)
    connected_app_delete(app=chat.app)
    assert not Client.objects.filter(pk=chat.app.client_id).exists()
    assert not AppEnablement.objects.exists()
    assert AuditEvent.objects.get(action="connected_app.delete").before["enabled_for"] == ["acme"]


# --- enabling (account admins) --------------------------------------------------------------------
def test_an_owner_enables_an_app_for_everyone_and_it_is_audited(chat, owner, bob_m):
    enablement = app_enable(account=owner.account, app=chat.app, actor=owner)
    assert enablement.audience == AppEnablement.Audience.EVERYONE
    assert apps_launchable(membership=bob_m) == [chat.app]
    event = AuditEvent.objects.get(action="app.enable")
    assert event.account == owner.account and event.actor == owner.user
    assert event.after == {"audience": "everyone", "groups": []}


@pytest.mark.parametrize("role", [Membership.Role.MEMBER, Membership.Role.READ_ONLY, Membership.Role.BILLING])
def test_a_role_without_apps_manage_cannot_enable_change_or_disable(chat, acme, owner, role):
    actor = membership_add(account=acme, user=make_user(f"{role}@acme.test"), role=role)
    with pytest.raises(PermissionDenied):
        app_enable(account=acme, app=chat.app, actor=actor)
    enablement = app_enable(account=acme, app=chat.app, actor=owner)
    with pytest.raises(PermissionDenied):
        app_audience_set(enablement=enablement, actor=actor, audience="everyone")
    with pytest.raises(PermissionDenied):
        app_disable(enablement=enablement, actor=actor)
    assert AppEnablement.objects.filter(pk=enablement.pk).exists()


def test_an_admin_of_globex_cannot_enable_an_app_for_acme(chat, acme, globex):
    carol = Membership.objects.get(account=globex, role="owner")
    with pytest.raises(PermissionDenied):
        app_enable(account=acme, app=chat.app, actor=carol)
    assert not AppEnablement.objects.exists()


def test_an_admin_of_globex_cannot_change_or_disable_acmes_enablement(chat, owner, globex):
    carol = Membership.objects.get(account=globex, role="owner")
    enablement = app_enable(account=owner.account, app=chat.app, actor=owner)
    with pytest.raises(PermissionDenied):
        app_audience_set(enablement=enablement, actor=carol, audience="groups", groups=[])
    with pytest.raises(PermissionDenied):
        app_disable(enablement=enablement, actor=carol)
    assert AppEnablement.objects.get(pk=enablement.pk).audience == "everyone"


def test_a_group_audience_admits_only_that_groups_members(chat, owner, bob_m, dave):
    ops = group_create(account=owner.account, actor=owner, name="Chatters")
    group_members_add(group=ops, actor=owner, memberships=[bob_m])
    app_enable(account=owner.account, app=chat.app, actor=owner, audience="groups", groups=[ops])
    assert apps_launchable(membership=bob_m) == [chat.app]
    assert apps_launchable(membership=dave) == []
    assert app_open_allowed(user=bob_m.user, app=chat.app)
    assert not app_open_allowed(user=dave.user, app=chat.app)


def test_another_accounts_group_cannot_be_an_audience(chat, owner, globex):
    carol = Membership.objects.get(account=globex, role="owner")
    theirs = group_create(account=globex, actor=carol, name="Globex team")
    with pytest.raises(ValidationError) as refused:
        app_enable(account=owner.account, app=chat.app, actor=owner, audience="groups", groups=[theirs])
    assert "groups" in refused.value.message_dict
    assert not AppEnablement.objects.exists()


def test_a_group_audience_needs_a_group_and_an_unknown_audience_is_refused(chat, owner):
    with pytest.raises(ValidationError):
        app_enable(account=owner.account, app=chat.app, actor=owner, audience="groups", groups=[])
    with pytest.raises(ValidationError):
        app_enable(account=owner.account, app=chat.app, actor=owner, audience="the-world")


def test_enabling_twice_is_refused_as_bad_input(chat, owner):
    app_enable(account=owner.account, app=chat.app, actor=owner)
    with pytest.raises(ValidationError, match="already enabled"):
        app_enable(account=owner.account, app=chat.app, actor=owner)


def test_changing_the_audience_is_audited_before_and_after(chat, owner, bob_m):
    ops = group_create(account=owner.account, actor=owner, name="Chatters")
    enablement = app_enable(account=owner.account, app=chat.app, actor=owner)
    app_audience_set(enablement=enablement, actor=owner, audience="groups", groups=[ops])
    event = AuditEvent.objects.get(action="app.audience")
    assert event.before == {"audience": "everyone", "groups": []}
    assert event.after == {"audience": "groups", "groups": ["Chatters"]}
    assert apps_launchable(membership=bob_m) == []


def test_disabling_deletes_the_enablement_and_is_audited(chat, owner, bob_m):
    enablement = app_enable(account=owner.account, app=chat.app, actor=owner)
    app_disable(enablement=enablement, actor=owner)
    assert not AppEnablement.objects.exists()
    assert apps_launchable(membership=bob_m) == []
    assert AuditEvent.objects.get(action="app.disable").target_label == "Team Chat"


def test_a_suspended_member_may_not_open_the_app(chat, owner, bob_m):
    app_enable(account=owner.account, app=chat.app, actor=owner)
    member_suspend(membership=bob_m, actor=owner)
    assert not app_open_allowed(user=bob_m.user, app=chat.app)


def test_a_person_in_two_accounts_is_allowed_when_any_of_them_enables_the_app(chat, owner, globex, bob):
    carol = Membership.objects.get(account=globex, role="owner")
    membership_add(account=globex, user=bob, role=Membership.Role.MEMBER)
    assert not app_open_allowed(user=bob, app=chat.app)
    app_enable(account=globex, app=chat.app, actor=carol)
    assert app_open_allowed(user=bob, app=chat.app)
    # the launcher is per account: Acme has not enabled it
    assert apps_launchable(membership=Membership.objects.get(account=owner.account, user=bob)) == []


def test_the_refusal_names_the_admins_of_the_persons_own_accounts_only(owner, bob, globex):
    ask = admins_to_ask(user=bob)
    assert [entry.account.slug for entry in ask] == ["acme"]
    assert [admin.email for admin in ask[0].admins] == ["alice@acme.test"]
    assert ask[0].you_manage is False


def test_the_launcher_costs_one_query(chat, owner, bob_m, django_assert_num_queries):
    second = connected_app_register(name="Wiki", launch_url="https://wiki.test/", redirect_uris=[REDIRECT])
    ops = group_create(account=owner.account, actor=owner, name="Chatters")
    group_members_add(group=ops, actor=owner, memberships=[bob_m])
    app_enable(account=owner.account, app=chat.app, actor=owner)
    app_enable(account=owner.account, app=second.app, actor=owner, audience="groups", groups=[ops])
    with django_assert_num_queries(1):
        assert [app.name for app in apps_launchable(membership=bob_m)] == ["Team Chat", "Wiki"]


# --- the authorize step ---------------------------------------------------------------------------
def _authorize(client, **extra):
    verifier, challenge = pkce_pair()
    response = authorize(
        client, "app-team-chat", REDIRECT, challenge=challenge, scope="openid email", **extra
    )
    return response, verifier


def test_an_enabled_member_gets_a_code_and_an_id_token_with_their_email(client, chat, owner, bob):
    app_enable(account=owner.account, app=chat.app, actor=owner)
    client.force_login(bob)
    response, verifier = _authorize(client)
    assert response.status_code == 302 and response["Location"].startswith(REDIRECT)
    code = query_of(response)["code"]
    tokens = client.post(
        TOKEN_URL,
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": verifier,
        },
        HTTP_AUTHORIZATION=basic_auth("app-team-chat", chat.client_secret),
    )
    assert tokens.status_code == 200, tokens.content
    claims = unverified_claims(tokens.json()["id_token"])
    assert claims["email"] == "bob@acme.test" and claims["aud"] == "app-team-chat"
    assert "refresh_token" not in tokens.json()


def test_a_member_of_an_account_that_has_not_enabled_the_app_gets_a_403_naming_app_and_admin(
    client, chat, acme, bob
):
    client.force_login(bob)
    response, _ = _authorize(client)
    body = response.content.decode()
    assert response.status_code == 403
    assert "Location" not in response
    assert "You cannot sign in to Team Chat" in body
    assert "alice@acme.test" in body and "Acme" in body
    assert not Token.objects.exists()


def test_a_member_outside_the_chosen_groups_is_refused(client, chat, owner, bob_m, dave):
    ops = group_create(account=owner.account, actor=owner, name="Chatters")
    group_members_add(group=ops, actor=owner, memberships=[bob_m])
    app_enable(account=owner.account, app=chat.app, actor=owner, audience="groups", groups=[ops])
    client.force_login(dave.user)
    assert _authorize(client)[0].status_code == 403
    client.force_login(bob_m.user)
    assert _authorize(client)[0].status_code == 302


def test_after_the_admin_disables_the_app_the_next_authorization_is_refused(client, chat, owner, bob):
    enablement = app_enable(account=owner.account, app=chat.app, actor=owner)
    client.force_login(bob)
    assert _authorize(client)[0].status_code == 302
    app_disable(enablement=enablement, actor=owner)
    assert _authorize(client)[0].status_code == 403


def test_prompt_none_answers_the_app_with_access_denied_instead_of_a_page(client, chat, acme, bob):
    client.force_login(bob)
    response, _ = _authorize(client, prompt="none")
    assert response.status_code == 302
    query = query_of(response)
    assert response["Location"].startswith(REDIRECT)
    assert query["error"] == "access_denied" and query["state"] == "state-1" and "code" not in query


def test_the_consent_forms_post_is_gated_too(client, chat, acme, bob):
    # A signed consent POST (as allauth's form sends it) for a refused person never yields a code.
    from django.core.signing import Signer

    client.force_login(bob)
    signed = Signer().sign_object(
        (["openid"], {"client_id": "app-team-chat", "redirect_uri": REDIRECT, "state": "s"})
    )
    response = client.post(
        "/identity/o/authorize", {"request": signed, "action": "grant", "scopes": "openid"}
    )
    assert response.status_code == 403
    assert "Team Chat" in response.content.decode()


def test_an_app_must_use_pkce(client, chat, owner, bob):
    app_enable(account=owner.account, app=chat.app, actor=owner)
    client.force_login(bob)
    response = client.get(
        "/identity/o/authorize",
        {"response_type": "code", "client_id": "app-team-chat", "redirect_uri": REDIRECT,
         "scope": "openid", "state": "s1"},
    )  # fmt: skip
    assert response.status_code == 302
    assert query_of(response)["error"] == "invalid_request" and "code" not in query_of(response)


def test_an_unregistered_redirect_uri_never_receives_the_refusal(client, chat, acme, bob):
    client.force_login(bob)
    verifier, challenge = pkce_pair()
    response = authorize(client, "app-team-chat", "https://evil.test/cb", challenge=challenge, prompt="none")
    assert response.status_code in (400, 403)
    assert "evil.test" not in response.get("Location", "")


def test_a_signed_out_person_is_sent_to_log_in_first(client, chat, acme):
    response, _ = _authorize(client)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_region_login_clients_are_not_connected_apps_and_keep_working(client, tmp_path, acme, carol, globex):
    # carol's account enables no app at all; a region's login client still issues her a code
    region = region_with_login_client("eu", tmp_path, 8102, 9102)
    client.force_login(carol)
    verifier, challenge = pkce_pair()
    response = authorize(client, region.oidc_client_id, region.oidc_redirect_uri, challenge=challenge)
    assert response.status_code == 302 and "code" in query_of(response)


def test_the_demo_data_enables_team_chat_for_acme_only_and_loads_twice(db):
    for _ in range(2):
        call_command("load_demo", stdout=io.StringIO())
    app = ConnectedApp.objects.get(name="Team Chat")
    assert list(AppEnablement.objects.filter(app=app).values_list("account__slug", flat=True)) == ["acme"]
    assert app_open_allowed(user=User.objects.get(email="bob@acme.test"), app=app)
    assert not app_open_allowed(user=User.objects.get(email="carol@globex.test"), app=app)
