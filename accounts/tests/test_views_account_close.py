"""/a/<slug>/settings/: renaming (owners, admins) and closing (owners, typed slug) the account."""

import pytest

from accounts.models import Account, AuditEvent, Membership
from accounts.services import account_region_add, membership_add
from conftest import make_region, make_user
from regions.models import ProvisioningRecord

# Until accounts/urls.py mounts accounts.urls_settings, this URLconf does (the same routes).
pytestmark = [pytest.mark.django_db, pytest.mark.urls("accounts.tests.urls_with_settings")]


def person_with_role(account, role: str):
    user = make_user(f"{role}-person@acme.test")
    membership_add(account=account, user=user, role=role)
    return user


@pytest.mark.parametrize(
    ("role", "status", "sees_close"),
    [("owner", 200, True), ("admin", 200, False), ("member", 403, False), ("billing", 403, False),
     ("read_only", 403, False)],
)  # fmt: skip
def test_owners_and_admins_open_the_settings_others_get_403(client, acme, role, status, sees_close):
    client.force_login(person_with_role(acme, role))
    response = client.get("/a/acme/settings/")
    assert response.status_code == status
    if status == 200:
        assert b'id="account-rename"' in response.content
        assert (b'href="/a/acme/settings/close/"' in response.content) is sees_close


@pytest.mark.parametrize("role", ["owner", "admin"])
def test_owners_and_admins_rename_the_account_and_it_is_audited(client, acme, role):
    user = person_with_role(acme, role)
    client.force_login(user)
    response = client.post("/a/acme/settings/", {"name": "  Acme Corporation "}, REMOTE_ADDR="192.0.2.5")
    assert response.status_code == 302
    assert Account.objects.get(pk=acme.pk).name == "Acme Corporation"
    event = AuditEvent.objects.get(action="account.rename")
    assert (event.account, event.actor, event.ip) == (acme, user, "192.0.2.5")
    assert (event.before, event.after) == ({"name": "Acme"}, {"name": "Acme Corporation"})


@pytest.mark.parametrize("role", ["member", "billing", "read_only"])
def test_other_roles_cannot_rename(client, acme, role):
    client.force_login(person_with_role(acme, role))
    assert client.post("/a/acme/settings/", {"name": "Hijacked"}).status_code == 403
    assert Account.objects.get(pk=acme.pk).name == "Acme"


@pytest.mark.parametrize("name", ["", "   ", "x" * 201])
def test_a_bad_name_is_a_form_error(client, alice, acme, name):
    client.force_login(alice)
    response = client.post("/a/acme/settings/", {"name": name})
    assert response.status_code == 400 and b"errorlist" in response.content
    assert Account.objects.get(pk=acme.pk).name == "Acme"
    assert not AuditEvent.objects.filter(action="account.rename").exists()


@pytest.mark.parametrize("role", ["admin", "member", "billing", "read_only"])
def test_only_an_owner_may_close(client, acme, role):
    client.force_login(person_with_role(acme, role))
    assert client.get("/a/acme/settings/close/").status_code == 403
    assert client.post("/a/acme/settings/close/", {"confirm_slug": "acme"}).status_code == 403
    assert not Account.objects.get(pk=acme.pk).is_closed


@pytest.mark.parametrize("typed", ["", "Acme", "ACME", "acme-x", "globex"])
def test_closing_needs_the_typed_slug(client, alice, acme, typed):
    client.force_login(alice)
    response = client.post("/a/acme/settings/close/", {"confirm_slug": typed})
    assert response.status_code == 400 and b"errorlist" in response.content
    assert not Account.objects.get(pk=acme.pk).is_closed


def test_closing_deprovisions_everyone_everywhere_keeps_the_log_and_stops_sign_in(client, alice, bob, acme):
    us, eu = make_region("us", 8101, 9101), make_region("eu", 8102, 9102)
    account_region_add(account=acme, region=us)
    account_region_add(account=acme, region=eu)
    client.force_login(alice)
    client.post("/a/acme/settings/", {"name": "Acme Inc"})
    assert client.get("/a/acme/settings/close/").status_code == 200

    response = client.post("/a/acme/settings/close/", {"confirm_slug": "acme"}, follow=True)

    assert response.redirect_chain[-1][0] == "/"
    assert b"Acme Inc is closed" in response.content
    account = Account.objects.get(pk=acme.pk)
    assert account.is_closed and account.slug == "acme"
    # every member leaves every region
    for user in (alice, bob):
        records = ProvisioningRecord.objects.filter(
            kind="user", tenant="acme", object_key=str(user.public_id)
        )
        assert {r.region.code for r in records} == {"us", "eu"}
        assert all(r.desired is None for r in records)
    assert set(Membership.objects.filter(account=acme).values_list("status", flat=True)) <= {"removing"}
    # the log stays, with the closing in it
    close = AuditEvent.objects.get(action="account.close")
    assert close.account_id == acme.pk and close.actor == alice and close.after["members_deprovisioned"] == 2
    assert AuditEvent.objects.filter(account=acme, action="account.rename").exists()
    # nobody opens the account any more, its owner included (the log is kept, not browsable)
    for user in (alice, bob):
        client.force_login(user)
        for path in ("/a/acme/", "/a/acme/audit/", "/a/acme/settings/", "/a/acme/settings/close/"):
            assert client.get(path).status_code == 404, path


def test_closing_twice_is_a_404_not_a_second_close(client, alice, acme):
    client.force_login(alice)
    client.post("/a/acme/settings/close/", {"confirm_slug": "acme"})
    assert client.post("/a/acme/settings/close/", {"confirm_slug": "acme"}).status_code == 404
    assert AuditEvent.objects.filter(action="account.close").count() == 1


@pytest.mark.parametrize("path", ["/a/acme/settings/", "/a/acme/settings/close/"])
def test_another_accounts_settings_are_a_404(client, carol, globex, acme, path):
    client.force_login(carol)
    assert client.get(path).status_code == 404
    assert client.post(path, {"name": "Pwned", "confirm_slug": "acme"}).status_code == 404
    account = Account.objects.get(pk=acme.pk)
    assert account.name == "Acme" and not account.is_closed


def test_typing_another_accounts_slug_under_globex_closes_nothing(client, carol, globex, acme):
    client.force_login(carol)
    response = client.post("/a/globex/settings/close/", {"confirm_slug": "acme"})
    assert response.status_code == 400
    assert not Account.objects.get(pk=acme.pk).is_closed
    assert not Account.objects.get(pk=globex.pk).is_closed


def test_anonymous_visitors_are_sent_to_sign_in(client, acme):
    for path in ("/a/acme/settings/", "/a/acme/settings/close/"):
        response = client.get(path)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
