import pytest

from conftest import make_user

pytestmark = pytest.mark.django_db


def test_a_member_of_one_account_lands_on_it(client, bob, acme):
    client.force_login(bob)
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/a/acme/"


def test_a_member_of_several_accounts_picks_one(client, alice, acme, globex):
    from accounts.services import membership_add

    membership_add(account=globex, user=alice)
    client.force_login(alice)
    response = client.get("/")
    assert response.status_code == 200
    assert b"/a/acme/" in response.content and b"/a/globex/" in response.content


def test_someone_without_an_account_is_told_so(client):
    from conftest import make_user

    client.force_login(make_user("loner@nowhere.test"))
    response = client.get("/")
    assert b"not a member of any account" in response.content


def test_login_with_email_and_password_reaches_the_dashboard(client, alice, acme):
    from conftest import PASSWORD

    response = client.post("/accounts/login/", {"login": "alice@acme.test", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/", follow=True).request["PATH_INFO"] == "/a/acme/"


def test_a_wrong_password_is_a_form_error(client, alice):
    response = client.post("/accounts/login/", {"login": "alice@acme.test", "password": "nope"})
    assert response.status_code == 200
    assert b"not correct" in response.content


def test_password_reset_sends_a_mail(client, alice, mailoutbox):
    response = client.post("/accounts/password/reset/", {"email": "alice@acme.test"})
    assert response.status_code == 302
    assert len(mailoutbox) == 1
    assert "/accounts/password/reset/key/" in mailoutbox[0].body


def test_healthz_answers(client):
    assert client.get("/healthz").json() == {"status": "ok"}


def test_someone_whose_only_membership_is_suspended_is_told_so(client, alice, bob, acme):
    from accounts.models import Membership
    from accounts.services import membership_update

    membership_update(membership=Membership.objects.get(account=acme, user=bob), status="suspended")
    client.force_login(bob)
    response = client.get("/", follow=True)
    assert response.status_code == 403
    assert b"Your membership of Acme is suspended; ask an admin" in response.content


def test_a_closed_account_leaves_the_dashboard(client, alice, acme, globex):
    from accounts.services import account_close, membership_add

    membership_add(account=globex, user=alice)
    account_close(account=acme)
    client.force_login(alice)
    response = client.get("/")
    assert response.status_code == 302 and response["Location"] == "/a/globex/"
    assert client.get("/a/acme/").status_code == 404


def test_the_dashboard_links_to_the_catalog(client, db):
    # (someone with one account is sent straight to it; with none the dashboard shows)
    client.force_login(make_user("newcomer@example.test"))
    assert 'href="/products/"' in client.get("/").content.decode()
