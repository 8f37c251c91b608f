"""/profile/: name, verified email change, password link, accounts, data export, deletion."""

import json
import re
import time

import pytest
from django.core import signing

from accounts import profile
from accounts.models import AuditEvent, Membership, User
from accounts.services import account_close, account_create, membership_add
from conftest import make_user

pytestmark = pytest.mark.django_db

URLS = [
    ("get", "/profile/"),
    ("post", "/profile/name/"),
    ("post", "/profile/email/"),
    ("get", "/profile/email/confirm/abc/"),
    ("get", "/profile/export/"),
    ("get", "/profile/delete/"),
]


@pytest.mark.parametrize(("method", "url"), URLS)
def test_it_sends_anonymous_visitors_to_sign_in(client, method, url):
    response = getattr(client, method)(url)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_page_shows_name_email_password_link_and_the_persons_open_accounts(client, alice, acme, globex):
    membership_add(account=globex, user=alice, role="read_only")
    closed = account_create(name="Closedco", slug="closedco", owner=alice)
    account_close(account=closed)
    client.force_login(alice)
    body = client.get("/profile/").content.decode()
    assert 'value="Alice"' in body and "alice@acme.test" in body
    assert 'href="/accounts/password/change/"' in body
    assert 'data-account="acme"' in body and 'href="/a/acme/"' in body
    assert 'data-account="globex"' in body and "Read-only" in body
    assert "Closedco" not in body


def test_the_page_has_a_constant_query_count(client, alice, django_assert_max_num_queries):
    for n in range(8):
        account_create(name=f"Company {n}", slug=f"company-{n}", owner=alice)
    client.force_login(alice)
    with django_assert_max_num_queries(6):
        response = client.get("/profile/")
    assert response.content.decode().count("data-account=") >= 8


def test_a_person_renames_themself_and_the_change_is_audited_with_ip_and_agent(client, alice, acme):
    client.force_login(alice)
    response = client.post(
        "/profile/name/",
        {"first_name": "Alicia", "last_name": "Anders"},
        REMOTE_ADDR="203.0.113.7",
        HTTP_USER_AGENT="Browser/1.0",
    )
    assert response.status_code == 302
    assert User.objects.get(pk=alice.pk).first_name == "Alicia"
    event = AuditEvent.objects.get(action="profile.update")
    assert (event.account, event.ip, event.user_agent) == (acme, "203.0.113.7", "Browser/1.0")


def test_a_too_long_name_is_a_form_error(client, alice, acme):
    client.force_login(alice)
    response = client.post("/profile/name/", {"first_name": "x" * 151, "last_name": ""})
    assert response.status_code == 400 and b"errorlist" in response.content
    assert User.objects.get(pk=alice.pk).first_name == "Alice"


def confirm_path(mail) -> str:
    return re.search(r"http://[^/]+(/profile/email/confirm/[^/\s]+/)", mail.body).group(1)


def test_an_email_change_goes_through_the_link_in_the_mail(client, alice, acme, mailoutbox):
    client.force_login(alice)
    response = client.post("/profile/email/", {"new_email": "alice.new@acme.test"}, follow=True)
    assert b"We sent a link to alice.new@acme.test" in response.content
    assert mailoutbox[-1].to == ["alice.new@acme.test"]
    path = confirm_path(mailoutbox[-1])
    # opening the link only asks (mail scanners open links too)
    page = client.get(path)
    assert page.status_code == 200 and b"alice.new@acme.test" in page.content
    assert User.objects.get(pk=alice.pk).email == "alice@acme.test"
    # confirming changes it
    done = client.post(path, follow=True)
    assert b"Your email is now alice.new@acme.test" in done.content
    assert User.objects.get(pk=alice.pk).email == "alice.new@acme.test"
    # and the link is spent
    again = client.get(path)
    assert again.status_code == 400 and b"already used" in again.content


@pytest.mark.parametrize(
    ("new_email", "error"),
    [("bob@acme.test", b"Another Atrium identity"), ("not-an-email", b"valid email"), ("", b"required")],
)
def test_a_taken_or_bad_address_is_a_form_error_and_mails_nobody(
    client, alice, bob, acme, mailoutbox, new_email, error
):
    client.force_login(alice)
    response = client.post("/profile/email/", {"new_email": new_email})
    assert response.status_code == 400 and error in response.content
    assert mailoutbox == []


def test_a_tampered_link_gets_a_clear_page(client, alice, acme, mailoutbox):
    client.force_login(alice)
    client.post("/profile/email/", {"new_email": "alice.new@acme.test"})
    path = confirm_path(mailoutbox[-1])
    tampered = path[:-3] + ("A" if path[-3] != "A" else "B") + path[-2:]
    for response in (client.get(tampered), client.post(tampered)):
        assert response.status_code == 400
        assert b'data-code="invalid"' in response.content and b"not valid" in response.content
    assert User.objects.get(pk=alice.pk).email == "alice@acme.test"


def test_an_expired_link_gets_a_clear_page(client, alice, acme, mailoutbox, monkeypatch):
    client.force_login(alice)
    client.post("/profile/email/", {"new_email": "alice.new@acme.test"})
    path = confirm_path(mailoutbox[-1])
    later = time.time() + profile.EMAIL_CHANGE_MAX_AGE + 60
    monkeypatch.setattr(signing.time, "time", lambda: later)
    response = client.post(path)
    monkeypatch.undo()
    assert response.status_code == 400 and b"expired" in response.content
    assert User.objects.get(pk=alice.pk).email == "alice@acme.test"


def test_someone_else_signed_in_cannot_use_the_link(client, alice, bob, acme, mailoutbox):
    client.force_login(alice)
    client.post("/profile/email/", {"new_email": "alice.new@acme.test"})
    path = confirm_path(mailoutbox[-1])
    client.force_login(bob)
    response = client.post(path)
    assert response.status_code == 400 and b'data-code="wrong_user"' in response.content
    assert User.objects.get(pk=bob.pk).email == "bob@acme.test"
    assert User.objects.get(pk=alice.pk).email == "alice@acme.test"


def test_an_address_taken_before_the_link_is_opened_gets_a_clear_page(client, alice, acme, mailoutbox):
    client.force_login(alice)
    client.post("/profile/email/", {"new_email": "new@acme.test"})
    make_user("new@acme.test")
    response = client.post(confirm_path(mailoutbox[-1]))
    assert response.status_code == 400 and b'data-code="taken"' in response.content


def test_the_data_export_is_a_json_attachment(client, alice, acme):
    client.force_login(alice)
    client.post("/profile/name/", {"first_name": "Alicia", "last_name": "Anders"})
    response = client.get("/profile/export/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["Cache-Control"] == "no-store"
    data = json.loads(response.content)
    assert data["identity"]["email"] == "alice@acme.test"
    assert data["memberships"][0]["account_slug"] == "acme" and data["memberships"][0]["role"] == "owner"
    assert [e["action"] for e in data["audit_events_as_actor"]] == ["profile.update"]


def test_deleting_needs_the_typed_email(client, bob, acme):
    client.force_login(bob)
    response = client.post("/profile/delete/", {"confirm_email": "bob@acme.test.wrong"})
    assert response.status_code == 400 and b"Type your email address" in response.content
    assert User.objects.filter(pk=bob.pk).exists()


def test_a_person_deletes_their_identity_and_is_signed_out(client, bob, acme):
    client.force_login(bob)
    assert client.get("/profile/delete/").status_code == 200
    response = client.post("/profile/delete/", {"confirm_email": "BOB@acme.test"})
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    assert not User.objects.filter(pk=bob.pk).exists()
    assert not Membership.objects.filter(user_id=bob.pk).exists()
    assert client.get("/profile/").status_code == 302  # signed out


def test_the_last_owner_is_refused_with_the_accounts_name(client, alice, acme):
    client.force_login(alice)
    page = client.get("/profile/delete/")
    assert b'data-testid="last-owner"' in page.content and b"Acme" in page.content
    response = client.post("/profile/delete/", {"confirm_email": "alice@acme.test"})
    assert response.status_code == 400 and b"You are the last owner of Acme" in response.content
    assert User.objects.filter(pk=alice.pk).exists()
    assert client.get("/profile/").status_code == 200  # still signed in
