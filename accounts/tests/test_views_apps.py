"""The apps pages (`/a/<slug>/apps/`), the home panel and Django admin for connected apps: who
sees and changes what, bad input, tenant isolation, query counts."""

import html
import re

import pytest
from allauth.idp.oidc.models import Client

from accounts.connected_apps import app_enable, connected_app_register
from accounts.groups import group_create, group_members_add
from accounts.models import AppEnablement, AuditEvent, ConnectedApp, Membership, User
from accounts.services import membership_add
from conftest import make_user

pytestmark = pytest.mark.django_db

ROLES = ["owner", "admin", "member", "billing", "read_only"]
MANAGERS = {"owner", "admin"}
REDIRECT = "https://chat.example.test/oidc/callback"


@pytest.fixture
def chat():
    return connected_app_register(
        name="Team Chat", description="Chat for teams", icon="💬",
        launch_url="https://chat.example.test/", redirect_uris=[REDIRECT],
    ).app  # fmt: skip


@pytest.fixture
def wiki():
    return connected_app_register(
        name="Wiki", launch_url="https://wiki.example.test/", redirect_uris=["https://wiki.example.test/cb"]
    ).app


def signed_in_as(client, acme, role: str) -> Membership:
    if role == "owner":
        membership = Membership.objects.get(account=acme, role="owner")
    else:
        membership = membership_add(
            account=acme, user=make_user(f"{role}@acme.test", role.title()), role=role
        )
    client.force_login(membership.user)
    return membership


# --- the launcher -------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ROLES)
def test_everyone_sees_the_apps_enabled_for_them_and_only_managers_see_the_controls(
    client, acme, owner, chat, wiki, role
):
    app_enable(account=acme, app=chat, actor=owner)
    signed_in_as(client, acme, role)
    response = client.get("/a/acme/apps/")
    body = response.content.decode()
    assert response.status_code == 200
    launcher = body.split('data-testid="app-launcher"')[1].split("</ul>")[0]
    assert 'data-app="Team Chat"' in launcher and 'href="https://chat.example.test/"' in launcher
    assert 'data-app="Wiki"' not in launcher
    assert ('data-testid="apps-manage"' in body) == (role in MANAGERS)


def test_the_home_panel_lists_the_members_apps_with_open_links(client, acme, owner, bob, chat):
    app_enable(account=acme, app=chat, actor=owner)
    client.force_login(bob)
    body = client.get("/a/acme/").content.decode()
    assert 'data-panel="apps"' in body
    assert 'href="https://chat.example.test/"' in body and 'data-action="open-app"' in body


def test_the_home_panel_is_hidden_from_a_member_with_no_apps(client, acme, bob, chat):
    client.force_login(bob)
    assert 'data-panel="apps"' not in client.get("/a/acme/").content.decode()


def test_the_nav_links_to_the_accounts_apps(client, acme, bob):
    client.force_login(bob)
    assert 'href="/a/acme/apps/" data-nav="apps"' in client.get("/a/acme/").content.decode()


def test_the_launcher_page_costs_the_same_queries_for_one_app_or_many(
    client, acme, owner, bob_m, django_assert_num_queries
):
    def page_queries() -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            assert client.get("/a/acme/apps/").status_code == 200
        return len(captured)

    group = group_create(account=acme, actor=owner, name="Chatters")
    group_members_add(group=group, actor=owner, memberships=[bob_m])
    first = connected_app_register(name="App 0", launch_url="https://a0.test/", redirect_uris=[REDIRECT]).app
    app_enable(account=acme, app=first, actor=owner, audience="groups", groups=[group])
    client.force_login(owner.user)
    one = page_queries()
    for n in range(1, 8):
        app = connected_app_register(
            name=f"App {n}", launch_url="https://a.test/", redirect_uris=[REDIRECT]
        ).app
        app_enable(account=acme, app=app, actor=owner, audience="groups", groups=[group])
    assert page_queries() == one
    with django_assert_num_queries(one):
        client.get("/a/acme/apps/")


def test_another_accounts_apps_page_is_a_404(client, acme, globex, carol):
    client.force_login(carol)
    assert client.get("/a/acme/apps/").status_code == 404


# --- enabling -------------------------------------------------------------------------------------
def test_an_admin_enables_an_app_for_chosen_groups_through_the_form(client, acme, bob_m, chat):
    admin = signed_in_as(client, acme, "admin")
    group = group_create(account=acme, actor=admin, name="Chatters")
    form = client.get(f"/a/acme/apps/enable/{chat.pk}/")
    assert form.status_code == 200 and "Chatters" in form.content.decode()
    response = client.post(f"/a/acme/apps/enable/{chat.pk}/", {"audience": "groups", "groups": [group.pk]})
    assert response.status_code == 302 and response["Location"] == "/a/acme/apps/"
    enablement = AppEnablement.objects.get(account=acme, app=chat)
    assert list(enablement.groups.all()) == [group]
    assert AuditEvent.objects.get(action="app.enable").actor == admin.user


@pytest.mark.parametrize("role", ["member", "billing", "read_only"])
def test_a_role_without_apps_manage_gets_403_on_every_manage_url(client, acme, owner, chat, wiki, role):
    enablement = app_enable(account=acme, app=chat, actor=owner)
    signed_in_as(client, acme, role)
    for url, data in [
        (f"/a/acme/apps/enable/{wiki.pk}/", {"audience": "everyone"}),
        (f"/a/acme/apps/{enablement.pk}/", {"audience": "everyone"}),
        (f"/a/acme/apps/{enablement.pk}/disable/", {}),
    ]:
        assert client.get(url).status_code == 403, url
        assert client.post(url, data).status_code == 403, url
    assert list(AppEnablement.objects.values_list("app__name", flat=True)) == ["Team Chat"]


def test_an_admin_of_globex_cannot_see_or_enable_apps_for_acme(client, acme, globex, carol, chat):
    client.force_login(carol)
    assert client.get(f"/a/acme/apps/enable/{chat.pk}/").status_code == 404
    assert client.post(f"/a/acme/apps/enable/{chat.pk}/", {"audience": "everyone"}).status_code == 404
    assert not AppEnablement.objects.exists()


def test_another_accounts_enablement_id_is_a_404_for_an_admin(client, acme, owner, globex, carol, chat):
    theirs = app_enable(account=globex, app=chat, actor=Membership.objects.get(account=globex, user=carol))
    client.force_login(owner.user)
    assert client.get(f"/a/acme/apps/{theirs.pk}/").status_code == 404
    assert client.post(f"/a/acme/apps/{theirs.pk}/", {"audience": "everyone"}).status_code == 404
    assert client.post(f"/a/acme/apps/{theirs.pk}/disable/").status_code == 404
    assert AppEnablement.objects.filter(pk=theirs.pk).exists()


def test_an_unknown_app_id_is_a_404(client, acme, owner):
    client.force_login(owner.user)
    assert client.get("/a/acme/apps/enable/999999/").status_code == 404


def test_another_accounts_group_in_the_form_is_a_form_error_not_a_500(
    client, acme, owner, globex, carol, chat
):
    theirs = group_create(account=globex, actor=Membership.objects.get(account=globex, user=carol), name="G")
    client.force_login(owner.user)
    response = client.post(f"/a/acme/apps/enable/{chat.pk}/", {"audience": "groups", "groups": [theirs.pk]})
    assert response.status_code == 400
    assert "Choose groups of this account only" in response.content.decode()
    assert not AppEnablement.objects.exists()


@pytest.mark.parametrize(
    "data, message",
    [
        ({"audience": "groups"}, "Choose at least one group"),
        ({"audience": "bogus"}, "Select a valid choice"),
        ({"audience": "groups", "groups": ["x'; drop"]}, "is not a group id"),
    ],
)
def test_bad_audience_input_is_a_form_error(client, acme, owner, chat, data, message):
    client.force_login(owner.user)
    response = client.post(f"/a/acme/apps/enable/{chat.pk}/", data)
    assert response.status_code == 400
    assert message in response.content.decode()


def test_enabling_an_already_enabled_app_is_a_form_error(client, acme, owner, chat):
    app_enable(account=acme, app=chat, actor=owner)
    client.force_login(owner.user)
    response = client.post(f"/a/acme/apps/enable/{chat.pk}/", {"audience": "everyone"})
    assert response.status_code == 400 and "already enabled" in response.content.decode()


def test_changing_who_may_open_and_disabling_through_the_pages(client, acme, owner, chat):
    enablement = app_enable(account=acme, app=chat, actor=owner)
    group = group_create(account=acme, actor=owner, name="Chatters")
    client.force_login(owner.user)
    response = client.post(f"/a/acme/apps/{enablement.pk}/", {"audience": "groups", "groups": [group.pk]})
    assert response.status_code == 302
    assert AppEnablement.objects.get(pk=enablement.pk).audience == "groups"
    confirm = client.get(f"/a/acme/apps/{enablement.pk}/disable/")
    assert confirm.status_code == 200 and "Disable Team Chat for Acme?" in confirm.content.decode()
    assert client.post(f"/a/acme/apps/{enablement.pk}/disable/").status_code == 302
    assert not AppEnablement.objects.exists()
    assert {e.action for e in AuditEvent.objects.filter(action__startswith="app.")} == {
        "app.enable", "app.audience", "app.disable",
    }  # fmt: skip


# --- Django admin ---------------------------------------------------------------------------------
@pytest.fixture
def staff(client):
    user = User.objects.create_superuser(email="staff@atrium.test", password="x-staff-pass-1")
    client.force_login(user)
    return user


def test_staff_register_an_app_in_admin_and_see_its_secret_once(client, staff):
    response = client.post(
        "/admin/accounts/connectedapp/add/",
        {"name": "Team Chat", "description": "", "icon": "💬", "launch_url": "https://chat.example.test/",
         "redirect_uris": f"{REDIRECT}\n"},
        follow=True,
    )  # fmt: skip
    assert response.status_code == 200
    app = ConnectedApp.objects.get(name="Team Chat")
    shown = re.search(r'value="([^"]+)" data-client-secret', response.content.decode()).group(1)
    secret = html.unescape(shown)
    client_row = Client.objects.get(pk=app.client_id)
    assert client_row.check_secret(secret) and secret not in client_row.secret
    assert client_row.get_redirect_uris() == [REDIRECT]
    assert AuditEvent.objects.get(action="connected_app.register").actor == staff
    # the secret is never shown again
    again = client.get(f"/admin/accounts/connectedapp/{app.pk}/change/").content.decode()
    assert shown not in again and "data-client-secret" not in again


def test_a_bad_redirect_uri_in_admin_is_a_form_error(client, staff):
    response = client.post(
        "/admin/accounts/connectedapp/add/",
        {"name": "Bad", "launch_url": "https://bad.test/", "redirect_uris": "https://bad.test/cb#x"},
    )
    assert response.status_code == 200
    assert "has no fragment" in response.content.decode()
    assert not ConnectedApp.objects.exists() and not Client.objects.exists()


def test_staff_change_an_apps_redirect_uris_in_admin(client, staff, chat):
    response = client.post(
        f"/admin/accounts/connectedapp/{chat.pk}/change/",
        {"name": "Team Chat", "description": "d", "icon": "", "launch_url": "https://chat.example.test/",
         "redirect_uris": f"{REDIRECT}\nhttps://chat.example.test/cb2"},
    )  # fmt: skip
    assert response.status_code == 302
    assert Client.objects.get(pk=chat.client_id).get_redirect_uris() == [
        REDIRECT,
        "https://chat.example.test/cb2",
    ]


def test_staff_rotate_a_secret_and_delete_an_app_in_admin(client, staff, chat, acme, owner):
    app_enable(account=acme, app=chat, actor=owner)
    old = Client.objects.get(pk=chat.client_id).secret
    client.post(
        "/admin/accounts/connectedapp/",
        {"action": "rotate_secret", "_selected_action": [chat.pk]},
        follow=True,
    )
    assert Client.objects.get(pk=chat.client_id).secret != old
    client.post(f"/admin/accounts/connectedapp/{chat.pk}/delete/", {"post": "yes"})
    assert not ConnectedApp.objects.exists() and not Client.objects.filter(pk=chat.client_id).exists()
    assert not AppEnablement.objects.exists()


def test_enablements_are_read_only_in_admin(client, staff, chat, acme, owner):
    enablement = app_enable(account=acme, app=chat, actor=owner)
    assert client.get("/admin/accounts/appenablement/").status_code == 200
    assert client.get("/admin/accounts/appenablement/add/").status_code == 403
    client.post(f"/admin/accounts/appenablement/{enablement.pk}/change/", {"audience": "groups"})
    assert AppEnablement.objects.get(pk=enablement.pk).audience == "everyone"


def test_the_audience_form_shows_the_current_choice(client, acme, owner, chat):
    group = group_create(account=acme, actor=owner, name="Chatters")
    group_create(account=acme, actor=owner, name="Others")
    enablement = app_enable(account=acme, app=chat, actor=owner, audience="groups", groups=[group])
    client.force_login(owner.user)
    body = client.get(f"/a/acme/apps/{enablement.pk}/").content.decode()
    checked = re.findall(r'<input type="(?:radio|checkbox)" name="(\w+)" value="([^"]+)"[^>]*checked', body)
    assert checked == [("audience", "groups"), ("groups", str(group.pk))]
