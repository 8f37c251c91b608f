"""/profile/sessions/ (list, revoke one, sign out everywhere else) and an admin's "sign out
everywhere" on /a/<slug>/members/<id>/sign-out/: what each page shows, that a revoked cookie
stops working, isolation (another person's session or another account's member is a 404, a
role without the right a 403) and bad input (4xx, never a 500)."""

import pytest
from django.conf import settings
from django.test import Client as HttpClient

from accounts.models import AuditEvent, Membership, UserSession
from accounts.services import membership_add
from accounts.tests.test_sessions_services import FIREFOX, SAFARI_IPHONE, sign_in, signed_in
from conftest import make_user

pytestmark = pytest.mark.django_db


def key_of(browser: HttpClient) -> str:
    return browser.cookies[settings.SESSION_COOKIE_NAME].value


def row_of(browser: HttpClient) -> UserSession:
    return UserSession.objects.get(session_key=key_of(browser))


# --- /profile/sessions/ ----------------------------------------------------------------------------
def test_the_page_lists_open_sessions_with_device_address_and_marks_this_one(alice):
    here = sign_in("alice@acme.test", ip="203.0.113.7", user_agent=FIREFOX)
    phone = sign_in("alice@acme.test", ip="198.51.100.20", user_agent=SAFARI_IPHONE)
    ended = sign_in("alice@acme.test", ip="192.0.2.1")
    ended.post("/accounts/logout/")
    page = here.get("/profile/sessions/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Firefox on Linux" in html and "Safari on iOS" in html
    assert "203.0.113.7" in html and "198.51.100.20" in html
    assert "192.0.2.1" not in html  # an ended session is not listed
    assert html.count('data-testid="current-session"') == 1
    assert f'data-session="{row_of(here).pk}" data-current="true"' in html
    assert f'data-session="{row_of(phone).pk}"' in html
    assert "Sign out everywhere else" in html


def test_an_expired_session_is_not_listed(alice):
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    here, stale = sign_in("alice@acme.test"), sign_in("alice@acme.test", ip="192.0.2.50")
    Session.objects.filter(session_key=key_of(stale)).update(expire_date=timezone.now())
    html = here.get("/profile/sessions/").content.decode()
    assert html.count("data-session=") == 1
    assert "192.0.2.50" not in html


def test_the_page_costs_the_same_queries_whatever_the_number_of_sessions(alice, django_assert_num_queries):
    here = sign_in("alice@acme.test")
    here.get("/profile/sessions/")  # settle the session's own writes
    with django_assert_num_queries(4):  # session, user, the sessions, the nav's account switcher
        here.get("/profile/sessions/")
    for _ in range(5):
        sign_in("alice@acme.test")
    with django_assert_num_queries(4):
        assert here.get("/profile/sessions/").content.decode().count("data-session=") == 6


def test_the_profile_links_to_the_sessions_page(alice):
    assert 'href="/profile/sessions/"' in sign_in("alice@acme.test").get("/profile/").content.decode()


def test_revoking_a_session_signs_that_browser_out_at_once(alice):
    here, phone = sign_in("alice@acme.test"), sign_in("alice@acme.test", user_agent=SAFARI_IPHONE)
    response = here.post(f"/profile/sessions/{row_of(phone).pk}/revoke/", follow=True)
    assert response.redirect_chain[-1][0] == "/profile/sessions/"
    assert "Signed out Safari on iOS." in response.content.decode()
    assert not signed_in(phone)
    assert phone.get("/profile/sessions/").status_code == 302  # to the login
    assert signed_in(here)


def test_revoking_this_session_is_signing_out(alice):
    here = sign_in("alice@acme.test")
    response = here.post(f"/profile/sessions/{row_of(here).pk}/revoke/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    assert not signed_in(here)
    assert UserSession.objects.get(user=alice).ended_at is not None


def test_sign_out_everywhere_else_keeps_this_browser_only(alice):
    here, there, elsewhere = (sign_in("alice@acme.test") for _ in range(3))
    response = here.post("/profile/sessions/revoke-others/", follow=True)
    assert "Signed out 2 other sessions." in response.content.decode()
    assert signed_in(here)
    assert not signed_in(there) and not signed_in(elsewhere)


def test_another_persons_session_is_a_404_and_stays_alive(alice, bob):
    here, bobs = sign_in("alice@acme.test"), sign_in("bob@acme.test")
    assert here.post(f"/profile/sessions/{row_of(bobs).pk}/revoke/").status_code == 404
    assert signed_in(bobs)


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("get", "/profile/sessions/1/revoke/", 405),
        ("get", "/profile/sessions/revoke-others/", 405),
        ("post", "/profile/sessions/999999/revoke/", 404),
        ("post", "/profile/sessions/abc/revoke/", 404),
        ("post", "/profile/sessions/-1/revoke/", 404),
        ("post", "/profile/sessions/99999999999999999999999/revoke/", 404),
        ("post", "/profile/sessions/", 405),
    ],
)
def test_bad_requests_are_4xx_never_500(alice, method, path, status):
    here = sign_in("alice@acme.test")
    assert getattr(here, method)(path).status_code == status
    assert signed_in(here)


def test_the_pages_need_a_sign_in(client):
    assert client.get("/profile/sessions/")["Location"].startswith("/accounts/login/")
    assert client.post("/profile/sessions/revoke-others/")["Location"].startswith("/accounts/login/")


# --- an admin signs a member out everywhere -------------------------------------------------------
def sign_out_url(membership: Membership, slug: str | None = None) -> str:
    return f"/a/{slug or membership.account.slug}/members/{membership.pk}/sign-out/"


def test_an_owner_confirms_then_signs_a_member_out_everywhere(owner, bob_m):
    alices, bobs = sign_in("alice@acme.test"), sign_in("bob@acme.test")
    page = alices.get(sign_out_url(bob_m))
    assert page.status_code == 200
    assert "Sign Bob Brown out everywhere?" in page.content.decode()
    assert signed_in(bobs)  # a GET changes nothing
    response = alices.post(sign_out_url(bob_m), {"back": "q=bob"}, follow=True)
    assert response.redirect_chain[0][0] == "/a/acme/members/?q=bob"
    assert "bob@acme.test is signed out everywhere." in response.content.decode()
    assert not signed_in(bobs)
    assert signed_in(alices)
    assert AuditEvent.objects.filter(action="member.sign_out", target_label="bob@acme.test").count() == 1


def test_the_members_menu_offers_sign_out_to_admins(owner, bob_m):
    html = sign_in("alice@acme.test").get("/a/acme/members/").content.decode()
    assert f'href="/a/acme/members/{bob_m.pk}/sign-out/' in html


def test_a_member_gets_403_and_signs_nobody_out(owner, bob_m):
    alices, bobs = sign_in("alice@acme.test"), sign_in("bob@acme.test")
    assert bobs.get(sign_out_url(owner)).status_code == 403
    assert bobs.post(sign_out_url(owner)).status_code == 403
    assert signed_in(alices)


def test_an_admin_gets_403_for_an_owner(owner, acme):
    membership_add(account=acme, user=make_user("ada@acme.test"), role=Membership.Role.ADMIN)
    alices, adas = sign_in("alice@acme.test"), sign_in("ada@acme.test")
    assert adas.post(sign_out_url(owner)).status_code == 403
    assert signed_in(alices)


def test_another_accounts_member_is_a_404_by_either_slug(owner, globex, carol):
    carols_m = Membership.objects.get(account=globex, user=carol)
    alices, carols = sign_in("alice@acme.test"), sign_in("carol@globex.test")
    assert alices.post(sign_out_url(carols_m, slug="acme")).status_code == 404
    assert alices.post(sign_out_url(carols_m, slug="globex")).status_code == 404
    assert alices.get(sign_out_url(carols_m, slug="acme")).status_code == 404
    assert signed_in(carols)


def test_signing_oneself_out_here_is_refused_with_the_reason(owner):
    alices = sign_in("alice@acme.test")
    response = alices.post(sign_out_url(owner))
    assert response.status_code == 400
    assert "your own sessions page" in response.content.decode()
    assert signed_in(alices)


def test_a_missing_member_is_a_404(owner):
    assert sign_in("alice@acme.test").post("/a/acme/members/999999/sign-out/").status_code == 404
