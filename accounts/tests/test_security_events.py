"""Security events in the audit log (accounts/security_events.py): sign-ins, failures, lockouts,
sign-outs and machine token grants, with IP and user agent; an account admin sees those of the
people who are its members now, filters them per member, and never sees anyone else's."""

import pytest
from allauth.idp.oidc.models import Client

from accounts.audit import audit_record
from accounts.models import AuditEvent, Membership
from accounts.services import membership_add
from accounts.tests.oidc_helpers import TOKEN_URL, basic_auth, confidential_client
from conftest import PASSWORD, make_user

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
AGENT = {"REMOTE_ADDR": "198.51.100.7", "HTTP_USER_AGENT": "SecTest/1.0"}


def sign_in(client, email: str, password: str = PASSWORD):
    return client.post(LOGIN, {"login": email, "password": password}, **AGENT)


def rows(action: str):
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


# --- what is written ---------------------------------------------------------------------------


def test_a_password_sign_in_writes_auth_login_with_method_ip_and_agent(client, alice):
    response = sign_in(client, "alice@acme.test")
    assert response.status_code == 302
    [row] = rows("auth.login")
    assert row.account is None and row.actor == alice and row.subject == alice
    assert row.after == {"method": "password", "mfa": False}
    assert row.ip == "198.51.100.7" and row.user_agent == "SecTest/1.0"


def test_a_forced_login_in_tests_or_tools_is_not_a_sign_in(client, alice):
    client.force_login(alice)
    assert rows("auth.login") == []


def test_a_failed_sign_in_names_the_email_tried_and_never_the_password(client, alice):
    response = sign_in(client, "Alice@Acme.test", "wrong-password-123")
    assert response.status_code == 200  # the form again, with its error
    [row] = rows("auth.login_failed")
    assert row.target_label == "alice@acme.test" and row.subject == alice and row.actor is None
    assert row.ip == "198.51.100.7"
    stored = " ".join(
        str(v) for v in AuditEvent.objects.values_list("before", "after", "target_label", "user_agent")
    )
    assert "wrong-password-123" not in stored


def test_a_failed_sign_in_for_an_unknown_email_has_no_subject(client, db):
    sign_in(client, "nobody@nowhere.test", "whatever-123")
    [row] = rows("auth.login_failed")
    assert row.subject is None and row.target_label == "nobody@nowhere.test"


def test_signing_out_writes_auth_logout(client, alice):
    sign_in(client, "alice@acme.test")
    client.post("/accounts/logout/", **AGENT)
    [row] = rows("auth.logout")
    assert row.actor == alice and row.subject == alice and row.ip == "198.51.100.7"


def test_a_client_credentials_grant_writes_client_scopes_and_audience(client, db):
    confidential_client(
        "m2m-audit", "m2m-secret", grant_types=[Client.GrantType.CLIENT_CREDENTIALS], scopes=["scim"],
        allowed_resources=["https://127.0.0.1:9101"],
    )  # fmt: skip
    response = client.post(
        TOKEN_URL,
        {"grant_type": "client_credentials", "scope": "scim", "resource": "https://127.0.0.1:9101"},
        HTTP_AUTHORIZATION=basic_auth("m2m-audit", "m2m-secret"),
        **AGENT,
    )
    assert response.status_code == 200, response.content
    [row] = rows("token.client_credentials")
    assert row.target_type == "oidc_client" and row.target_id == "m2m-audit"
    assert row.after == {"scopes": ["scim"], "audience": ["https://127.0.0.1:9101"]}
    assert row.ip == "198.51.100.7" and row.user_agent == "SecTest/1.0"


def test_a_refused_grant_writes_no_grant_row(client, db):
    confidential_client(
        "m2m-bad", "right", grant_types=[Client.GrantType.CLIENT_CREDENTIALS], scopes=["scim"]
    )
    response = client.post(
        TOKEN_URL, {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=basic_auth("m2m-bad", "wrong")
    )
    assert response.status_code == 401
    assert rows("token.client_credentials") == []


# --- lockouts (allauth's limits on, as in production) --------------------------------------------


@pytest.fixture
def production_limits(settings):
    settings.ACCOUNT_RATE_LIMITS = settings.ATRIUM_ACCOUNT_RATE_LIMITS
    return settings


def test_five_failures_for_one_email_lock_it_out_and_write_one_lockout_row(client, alice, production_limits):
    for _ in range(5):
        sign_in(client, "alice@acme.test", "wrong-password-123")
    assert len(rows("auth.login_failed")) == 5
    # given the limit is reached, then even the right password is refused
    for _ in range(3):
        response = sign_in(client, "alice@acme.test")
        assert response.status_code == 200 and b"Too many failed login attempts" in response.content
    [row] = rows("auth.lockout")  # one row per address and limit per minute, not one per refusal
    assert row.subject == alice and row.after == {"limit": "login_failed"} and row.ip == "198.51.100.7"
    assert rows("auth.login") == []


def test_the_login_rate_limit_answers_429_and_writes_a_lockout(client, db, production_limits):
    statuses = [sign_in(client, f"n{n}@nowhere.test", "x-123").status_code for n in range(32)]
    assert statuses[:30] == [200] * 30 and statuses[30:] == [429, 429]
    # the 429s, and before them the per-address limit on failures (ten a minute), are lockouts;
    # made-up emails from one address write at most five rows a minute
    lockouts = rows("auth.lockout")
    assert {r.after["limit"] for r in lockouts} == {"login", "login_failed"} and len(lockouts) <= 10
    assert all(r.ip == "198.51.100.7" for r in lockouts)


# --- the account's audit page ------------------------------------------------------------------


def personal(action: str, person, label: str = "", **extra):
    return audit_record(action=action, account=None, actor=person, target_label=label or action, **extra)


def test_admins_see_their_members_sign_ins_on_the_account_audit_page(client, alice, bob, acme):
    sign_in(client, "bob@acme.test")
    client.logout()
    client.force_login(alice)
    body = client.get("/a/acme/audit/?group=security").content.decode()
    assert 'data-action="auth.login"' in body and "bob@acme.test" in body


def test_another_accounts_members_events_never_show(client, alice, acme, carol, globex):
    personal("auth.login", carol, "carol-sign-in")
    personal("mfa.enrolled", carol, "carol-mfa")
    client.force_login(alice)
    body = client.get("/a/acme/audit/").content.decode()
    assert "carol-sign-in" not in body and "carol-mfa" not in body
    client.force_login(carol)
    assert "carol-sign-in" in client.get("/a/globex/audit/").content.decode()


def test_a_person_who_left_the_account_is_no_longer_shown(client, alice, bob, acme):
    personal("auth.login", bob, "bob-sign-in")
    client.force_login(alice)
    assert "bob-sign-in" in client.get("/a/acme/audit/").content.decode()
    Membership.objects.filter(account=acme, user=bob).update(status=Membership.Status.REMOVING)
    assert "bob-sign-in" not in client.get("/a/acme/audit/").content.decode()


def test_personal_rows_other_than_security_events_stay_private(client, alice, bob, acme):
    personal("profile.export", bob, "bob-exported-data")
    client.force_login(alice)
    assert "bob-exported-data" not in client.get("/a/acme/audit/").content.decode()


def test_the_member_filter_shows_what_concerns_one_member(client, alice, bob, acme):
    personal("auth.login", bob, "bob-sign-in")
    personal("auth.login", alice, "alice-sign-in")
    audit_record(action="member.suspend", account=acme, actor=alice, target_type="member",
                 target_id=bob.public_id, target_label="bob-suspended")  # fmt: skip
    audit_record(action="group.create", account=acme, actor=alice, target_label="alice-group")
    client.force_login(alice)
    body = client.get("/a/acme/audit/?member=BOB@acme.test").content.decode()
    assert "bob-sign-in" in body and "bob-suspended" in body
    assert "alice-sign-in" not in body and "alice-group" not in body
    csv_body = b"".join(client.get("/a/acme/audit/export.csv?member=bob@acme.test").streaming_content)
    assert b"bob-sign-in" in csv_body and b"alice-group" not in csv_body


def test_the_member_filter_refuses_someone_who_is_not_a_member(client, alice, acme, carol, globex):
    personal("auth.login", carol, "carol-sign-in")
    client.force_login(alice)
    for email in ("carol@globex.test", "not-an-email"):
        response = client.get(f"/a/acme/audit/?member={email}")
        assert response.status_code == 400
        assert "carol-sign-in" not in response.content.decode()
    assert (
        b"No member of this account has that email."
        in client.get("/a/acme/audit/?member=carol@globex.test").content
    )


def test_the_security_group_shows_sign_ins_mfa_and_tokens_but_not_other_changes(client, alice, bob, acme):
    personal("auth.login_failed", bob, "bob-failed")
    personal("mfa.enrolled", bob, "bob-mfa")
    audit_record(action="mfa.reset", account=acme, actor=alice, target_label="bob-mfa-reset")
    audit_record(action="group.create", account=acme, actor=alice, target_label="a-group")
    client.force_login(alice)
    body = client.get("/a/acme/audit/?group=security").content.decode()
    assert all(label in body for label in ("bob-failed", "bob-mfa", "bob-mfa-reset"))
    assert "a-group" not in body
    assert client.get("/a/acme/audit/?group=nonsense").status_code == 400


def test_a_plain_member_still_cannot_read_the_log(client, bob, acme):
    client.force_login(bob)
    assert client.get("/a/acme/audit/?group=security").status_code == 403


def test_the_query_count_with_member_and_group_filters_does_not_grow(
    client, alice, bob, acme, django_assert_max_num_queries
):
    client.force_login(alice)
    path = "/a/acme/audit/?group=security&member=bob@acme.test"
    personal("auth.login", bob)
    with django_assert_max_num_queries(9) as few:
        assert client.get(path).status_code == 200
    for n in range(30):
        other = make_user(f"m{n}@acme.test")
        membership_add(account=acme, user=other, role="member")
        personal("auth.login", other)
        personal("auth.login", bob)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(path).status_code == 200
