"""Portal sessions and single logout, service side (accounts/sessions.py): a row per sign-in with
a fresh sid, ended at logout (allauth's and RP-initiated), last seen at most once a minute,
revocation that really ends the Django session, an admin's "sign out everywhere", and the
ledger's logout rows (kind `logout`): one per region the person reached, minted tokens that say
what the spec asks, and synced rows that do not pile up."""

import time
from datetime import timedelta

import jwt
import pytest
import time_machine
from allauth.idp.oidc.models import Client, Token
from cryptography.hazmat.primitives import serialization
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.test import Client as HttpClient
from django.utils import timezone

from accounts import sessions
from accounts.models import AuditEvent, Membership, UserSession
from accounts.services import account_region_add, membership_add
from conftest import PASSWORD, make_region, make_user
from regions import client as region_client
from regions.models import ProvisioningRecord
from regions.signals import record_synced

pytestmark = pytest.mark.django_db

LOGOUT = ProvisioningRecord.Kind.LOGOUT
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Mobile/15E148 Safari/604.1"
)


def sign_in(email: str, *, ip: str = "203.0.113.7", user_agent: str = FIREFOX) -> HttpClient:
    """A real password login through allauth's form (the login receivers run as in production)."""
    browser = HttpClient(REMOTE_ADDR=ip, HTTP_USER_AGENT=user_agent)
    response = browser.post("/accounts/login/", {"login": email, "password": PASSWORD})
    assert response.status_code == 302, response.content[:500]
    return browser


def session_key_of(browser: HttpClient) -> str:
    return browser.cookies[settings.SESSION_COOKIE_NAME].value


def signed_in(browser: HttpClient) -> bool:
    return browser.get("/profile/").status_code == 200


def reached(user, *regions, tenant: str = "acme") -> None:
    """The person's SCIM user is acknowledged in these regions (what the ledger records)."""
    for region in regions:
        ProvisioningRecord.objects.update_or_create(
            kind=ProvisioningRecord.Kind.USER, tenant=tenant, object_key=str(user.public_id), region=region,
            defaults={"desired": {"externalId": str(user.public_id)}, "acked_version": 1,
                      "state": ProvisioningRecord.State.SYNCED},
        )  # fmt: skip


def logout_rows(user):
    return ProvisioningRecord.objects.filter(kind=LOGOUT, object_key__startswith=str(user.public_id))


# --- devices ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("user_agent", "label"),
    [
        (FIREFOX, "Firefox on Linux"),
        (SAFARI_IPHONE, "Safari on iOS"),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0",
            "Edge on Windows",
        ),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/126.0.0.0 Safari/537.36",
            "Chrome on macOS",
        ),
        (
            "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/126.0 Mobile Safari/537.36",
            "Chrome on Android",
        ),
        ("curl/8.5.0", "curl"),
        ("", "Unknown device"),
        ("\x00<script>", "Unknown device"),
    ],
)
def test_a_user_agent_reads_as_browser_on_system(user_agent, label):
    assert sessions.device_label(user_agent) == label


# --- login, logout, last seen -------------------------------------------------------------------
def test_a_login_records_the_session_with_address_device_and_a_fresh_sid(alice):
    browser = sign_in("alice@acme.test")
    row = UserSession.objects.get(user=alice)
    assert row.session_key == session_key_of(browser)
    assert row.ip == "203.0.113.7"
    assert row.user_agent == FIREFOX
    assert row.ended_at is None
    assert len(row.sid) == 32
    assert browser.session[sessions.SID_KEY] == row.sid
    # a second login (another browser) is another session with another sid
    other = sign_in("alice@acme.test", ip="198.51.100.2")
    assert UserSession.objects.filter(user=alice, ended_at__isnull=True).count() == 2
    assert other.session[sessions.SID_KEY] != row.sid


def test_sessions_ended_over_a_month_ago_are_forgotten_at_the_next_login(alice, bob):
    for email in ("alice@acme.test", "bob@acme.test"):
        sign_in(email).post("/accounts/logout/")
    UserSession.objects.update(ended_at=timezone.now() - timedelta(days=31))
    sign_in("alice@acme.test")
    assert UserSession.objects.filter(user=alice).count() == 1  # only the new one
    assert UserSession.objects.filter(user=bob).count() == 1  # someone else's history stays


def test_session_sid_is_stable_within_the_session(alice, rf):
    browser = sign_in("alice@acme.test")
    request = rf.get("/")
    request.session = browser.session
    assert sessions.session_sid(request) == sessions.session_sid(request) == browser.session[sessions.SID_KEY]


def test_logging_out_ends_the_row_and_records_a_logout_for_each_region_reached(alice, acme):
    us, eu = make_region("us", 8101, 9101), make_region("eu", 8102, 9102)
    make_region("au", 8103, 9103)  # used by no account of hers
    reached(alice, us, eu)
    browser = sign_in("alice@acme.test")
    sid = browser.session[sessions.SID_KEY]
    # when she signs out at Atrium
    assert browser.post("/accounts/logout/").status_code == 302
    # then the row is ended and each region she reached (not AU) gets a logout naming the session
    assert UserSession.objects.get(user=alice).ended_at is not None
    rows = {row.region.code: row for row in logout_rows(alice).select_related("region")}
    assert set(rows) == {"us", "eu"}
    for row in rows.values():
        assert row.object_key == f"{alice.public_id}:{sid}"
        assert row.desired == {"sub": str(alice.public_id), "sid": sid}
        assert row.state == ProvisioningRecord.State.PENDING
    assert not signed_in(browser)


def test_one_logout_row_per_region_for_a_person_in_two_tenants_there(alice, acme, carol, globex):
    eu = make_region("eu")
    membership_add(account=globex, user=alice, role=Membership.Role.MEMBER)
    reached(alice, eu, tenant="acme")
    reached(alice, eu, tenant="globex")
    browser = sign_in("alice@acme.test")
    browser.post("/accounts/logout/")
    assert logout_rows(alice).count() == 1
    assert logout_rows(alice).get().tenant == "acme"


def test_rp_initiated_logout_also_ends_the_session_everywhere(alice, acme):
    eu = make_region("eu")
    reached(alice, eu)
    browser = sign_in("alice@acme.test")
    sid = browser.session[sessions.SID_KEY]
    response = browser.post("/identity/o/logout", {"action": "logout", "csrfmiddlewaretoken": "x"})
    assert response.status_code == 302
    assert not signed_in(browser)
    assert UserSession.objects.get(user=alice).ended_at is not None
    assert logout_rows(alice).get().desired == {"sub": str(alice.public_id), "sid": sid}


def test_a_person_in_no_region_logs_out_without_ledger_rows(alice, acme):
    browser = sign_in("alice@acme.test")
    browser.post("/accounts/logout/")
    assert not ProvisioningRecord.objects.filter(kind=LOGOUT).exists()


def test_last_seen_is_written_at_most_once_a_minute(alice):
    browser = sign_in("alice@acme.test")
    first = UserSession.objects.get(user=alice).last_seen_at
    with time_machine.travel(timezone.now() + timedelta(seconds=30)):
        browser.get("/profile/")
    assert UserSession.objects.get(user=alice).last_seen_at == first
    with time_machine.travel(timezone.now() + timedelta(minutes=2)):
        browser.get("/profile/", REMOTE_ADDR="192.0.2.99", HTTP_USER_AGENT=SAFARI_IPHONE)
        row = UserSession.objects.get(user=alice)
        assert row.last_seen_at > first + timedelta(minutes=1)
        assert row.ip == "192.0.2.99"
        assert row.user_agent == SAFARI_IPHONE


def test_a_session_from_before_tracking_gets_its_row_when_next_seen(alice):
    browser = HttpClient()
    browser.force_login(alice)
    UserSession.objects.all().delete()
    session = browser.session
    session.pop(sessions.SEEN_KEY)
    session.save()
    browser.get("/profile/")
    row = UserSession.objects.get(user=alice)
    assert row.session_key == session_key_of(browser)
    assert row.sid == browser.session[sessions.SID_KEY]


# --- revocation ---------------------------------------------------------------------------------
def test_revoking_a_session_ends_its_cookie_and_its_region_sessions(alice, acme):
    eu = make_region("eu")
    reached(alice, eu)
    laptop, phone = sign_in("alice@acme.test"), sign_in("alice@acme.test", user_agent=SAFARI_IPHONE)
    phone_row = UserSession.objects.get(session_key=session_key_of(phone))
    sessions.user_session_revoke(user=alice, session_id=phone_row.pk)
    assert not signed_in(phone)
    assert signed_in(laptop)
    phone_row.refresh_from_db()
    assert phone_row.ended_at is not None
    assert logout_rows(alice).get().desired == {"sub": str(alice.public_id), "sid": phone_row.sid}


def test_revoking_another_persons_or_an_ended_session_is_a_404(alice, bob):
    bobs = sign_in("bob@acme.test")
    row = UserSession.objects.get(user=bob)
    with pytest.raises(Http404):
        sessions.user_session_revoke(user=alice, session_id=row.pk)
    assert signed_in(bobs)
    sessions.user_session_revoke(user=bob, session_id=row.pk)
    with pytest.raises(Http404):
        sessions.user_session_revoke(user=bob, session_id=row.pk)


def test_signing_out_everywhere_else_keeps_only_this_session(alice, bob):
    here, there, elsewhere = (sign_in("alice@acme.test") for _ in range(3))
    bobs = sign_in("bob@acme.test")
    ended = sessions.user_sessions_revoke_others(user=alice, keep_session_key=session_key_of(here))
    assert ended == 2
    assert signed_in(here) and signed_in(bobs)
    assert not signed_in(there) and not signed_in(elsewhere)


# --- an admin signs a member out everywhere ------------------------------------------------------
@pytest.fixture
def bobs_tokens(bob):
    client = Client.objects.create(id="some-app", name="Some app")
    for kind in (Token.Type.REFRESH_TOKEN, Token.Type.ACCESS_TOKEN):
        Token.objects.create(type=kind, hash=f"{kind}-hash", client=client, user=bob)
    return client


def test_an_admin_signs_a_member_out_of_every_session_token_and_region(owner, bob_m, bob, alice, bobs_tokens):
    us, eu = make_region("us", 8101, 9101), make_region("eu", 8102, 9102)
    reached(bob, us, eu)
    phone, laptop = sign_in("bob@acme.test"), sign_in("bob@acme.test")
    alices = sign_in("alice@acme.test")
    result = sessions.member_sign_out_everywhere(actor=owner, membership=bob_m)
    assert result == {"sessions": 2, "tokens": 2, "regions": 2}
    assert not signed_in(phone) and not signed_in(laptop)
    assert signed_in(alices)
    assert not Token.objects.filter(user=bob).exists()
    rows = logout_rows(bob)
    assert {r.object_key for r in rows} == {f"{bob.public_id}:all"}
    assert [r.desired for r in rows] == [{"sub": str(bob.public_id)}] * 2  # no sid: every session
    event = AuditEvent.objects.get(action="member.sign_out")
    assert (event.actor, event.account_id, event.target_label) == (alice, owner.account_id, "bob@acme.test")
    assert event.after == result


def test_a_member_may_not_sign_others_out(owner, bob_m):
    with pytest.raises(PermissionDenied):
        sessions.member_sign_out_everywhere(actor=bob_m, membership=owner)


def test_an_admin_may_not_sign_an_owner_out_but_an_owner_may(owner, bob_m, acme, alice):
    admin = membership_add(account=acme, user=make_user("ada@acme.test"), role=Membership.Role.ADMIN)
    with pytest.raises(PermissionDenied):
        sessions.member_sign_out_everywhere(actor=admin, membership=owner)
    assert sessions.member_sign_out_everywhere(actor=owner, membership=admin)["regions"] == 0


def test_another_accounts_member_is_a_404_and_oneself_a_refusal(owner, globex, carol):
    carols = Membership.objects.get(account=globex, user=carol)
    with pytest.raises(Http404):
        sessions.member_sign_out_everywhere(actor=owner, membership=carols)
    with pytest.raises(ValidationError):
        sessions.member_sign_out_everywhere(actor=owner, membership=owner)
    assert not AuditEvent.objects.filter(action="member.sign_out").exists()


# --- the ledger kind and the logout token ----------------------------------------------------------
def public_key():
    private = serialization.load_pem_private_key(settings.IDP_OIDC_PRIVATE_KEY.encode(), password=None)
    return private.public_key()


def test_a_logout_token_says_what_back_channel_logout_asks_and_nothing_more():
    token = region_client.logout_token_mint(audience="region-eu", sub="the-sub", sid="the-sid")
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "RS256" and header["typ"] == "logout+jwt" and header["kid"]
    claims = jwt.decode(
        token, public_key(), algorithms=["RS256"], audience="region-eu", issuer=settings.ATRIUM_ISSUER
    )
    assert claims["events"] == {"http://schemas.openid.net/event/backchannel-logout": {}}
    assert (claims["sub"], claims["sid"]) == ("the-sub", "the-sid")
    assert "nonce" not in claims
    assert 0 < claims["exp"] - claims["iat"] <= 300
    assert abs(claims["iat"] - time.time()) < 5
    # each delivery mints its own token
    again = jwt.decode(
        region_client.logout_token_mint(audience="region-eu", sub="the-sub", sid=None),
        public_key(), algorithms=["RS256"], audience="region-eu",
    )  # fmt: skip
    assert again["jti"] != claims["jti"] and "sid" not in again


def test_a_logout_token_names_someone():
    with pytest.raises(region_client.RegionError):
        region_client.logout_token_mint(audience="region-eu", sub=None, sid=None)


def test_the_discovery_document_announces_back_channel_logout(client):
    metadata = client.get("/.well-known/openid-configuration").json()
    assert metadata["backchannel_logout_supported"] is True
    assert metadata["backchannel_logout_session_supported"] is True


def test_a_synced_logout_row_is_deleted_and_any_other_row_is_kept(alice, acme):
    eu = make_region("eu")
    account_region_add(account=acme, region=eu)
    sessions.logout_desire(user=alice, sid=None)  # nothing reached yet: no row
    assert not logout_rows(alice).exists()
    reached(alice, eu)
    sessions.logout_desire(user=alice, sid="s1")
    sessions.logout_desire(user=alice, sid="s2")
    synced, pending = logout_rows(alice).order_by("object_key")
    ProvisioningRecord.objects.filter(pk=synced.pk).update(
        acked_version=1, state=ProvisioningRecord.State.SYNCED
    )
    synced.refresh_from_db()
    for row in (synced, pending):
        record_synced.send(sender=ProvisioningRecord, record=row)
    assert list(logout_rows(alice)) == [pending]
    # a user row that syncs is of course kept
    user_row = ProvisioningRecord.objects.get(
        kind=ProvisioningRecord.Kind.USER, object_key=str(alice.public_id)
    )
    record_synced.send(sender=ProvisioningRecord, record=user_row)
    assert ProvisioningRecord.objects.filter(pk=user_row.pk).exists()
