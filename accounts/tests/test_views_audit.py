"""/a/<slug>/audit/: who sees the log, filters, pagination, CSV export, and that nothing in
the app edits or deletes an audit row."""

import csv
import io
from datetime import datetime

import pytest
from django.contrib import admin
from django.utils import timezone

from accounts.audit import audit_record
from accounts.models import AuditEvent, Membership
from accounts.services import membership_add
from conftest import make_user

pytestmark = pytest.mark.django_db


def event(account, action="member.suspend", *, actor=None, label="bob@acme.test", at=None, **fields):
    return AuditEvent.objects.create(
        account=account,
        actor=actor,
        actor_email=actor.email if actor else "",
        action=action,
        target_type=fields.pop("target_type", "membership"),
        target_id=fields.pop("target_id", "7"),
        target_label=label,
        created_at=at or timezone.now(),
        **fields,
    )


def day(text: str) -> datetime:
    return timezone.make_aware(datetime.fromisoformat(text))


def csv_rows(response) -> list[list[str]]:
    content = b"".join(response.streaming_content).decode("utf-8")
    assert content.startswith("\ufeff")
    return list(csv.reader(io.StringIO(content.removeprefix("\ufeff"))))


def person_with_role(account, role: str, email: str | None = None):
    user = make_user(email or f"{role}@acme.test")
    membership_add(account=account, user=user, role=role)
    return user


# --- who may see it ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "status"),
    [("owner", 200), ("admin", 200), ("read_only", 200), ("member", 403), ("billing", 403)],
)
@pytest.mark.parametrize("path", ["/a/acme/audit/", "/a/acme/audit/export.csv"])
def test_observers_see_the_log_and_other_roles_get_403(client, acme, role, status, path):
    client.force_login(person_with_role(acme, role, f"someone-{role}@acme.test"))
    assert client.get(path).status_code == status


def test_a_suspended_member_is_told_their_membership_is_suspended(client, acme):
    user = person_with_role(acme, "admin")
    Membership.objects.filter(user=user).update(status="suspended")
    client.force_login(user)
    response = client.get("/a/acme/audit/")
    assert response.status_code == 403 and b"is suspended" in response.content


@pytest.mark.parametrize("path", ["/a/acme/audit/", "/a/acme/audit/export.csv"])
def test_anonymous_visitors_are_sent_to_sign_in(client, acme, path):
    response = client.get(path)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("path", ["/a/acme/audit/", "/a/acme/audit/export.csv", "/a/nope/audit/"])
def test_another_accounts_log_is_a_404(client, carol, globex, acme, path):
    event(acme)
    client.force_login(carol)
    assert client.get(path).status_code == 404


def test_acme_ids_under_globex_find_nothing_of_acme(client, carol, globex, alice, acme):
    secret = event(acme, label="acme-secret", target_id="4242", actor=alice)
    event(globex, label="globex-own", actor=carol)
    client.force_login(carol)
    for query in ("", f"?target={secret.target_id}", "?target=acme-secret", "?actor=alice@acme.test"):
        body = client.get(f"/a/globex/audit/{query}").content.decode()
        assert 'data-target="acme-secret"' not in body and ">alice@acme.test<" not in body
        rows = csv_rows(client.get(f"/a/globex/audit/export.csv{query}"))
        assert all("acme-secret" not in row for row in rows)
    assert "globex-own" in client.get("/a/globex/audit/").content.decode()


def test_changes_cannot_be_posted_to_the_log(client, alice, acme):
    row = event(acme)
    client.force_login(alice)
    assert client.post("/a/acme/audit/", {"id": row.pk}).status_code == 405
    assert client.post("/a/acme/audit/export.csv").status_code == 405


# --- the table ----------------------------------------------------------------------------


def test_the_table_shows_when_who_what_target_before_after_ip_and_agent(client, alice, acme):
    event(
        acme, "member.rename", actor=alice, label="bob@acme.test", before={"first_name": "Bob", "last_name": "B"},
        after={"first_name": "Robert", "last_name": "B"}, ip="198.51.100.4", user_agent="Firefox/140",
        at=day("2026-11-03T10:20:30"),
    )  # fmt: skip
    client.force_login(alice)
    body = client.get("/a/acme/audit/").content.decode()
    assert 'data-action="member.rename"' in body
    for text in ("2026-11-03 10:20:30", "alice@acme.test", "bob@acme.test", "Bob → Robert", "198.51.100.4",
                 "Firefox/140"):  # fmt: skip
        assert text in body
    assert "B → B" not in body  # an unchanged field is not a change


def test_a_request_writes_ip_and_user_agent_into_the_row(client, alice, acme):
    client.force_login(alice)
    client.post("/profile/name/", {"first_name": "Al", "last_name": "A"}, REMOTE_ADDR="192.0.2.9",
                HTTP_USER_AGENT="Agent/9")  # fmt: skip
    body = client.get("/a/acme/audit/").content.decode()
    assert "profile.update" in body and "192.0.2.9" in body and "Agent/9" in body


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("actor=ALICE", {"a1", "a2"}),
        ("actor=bob@acme.test", {"b1"}),
        ("action=member.suspend", {"a1"}),
        ("action=member", {"a1", "b1"}),
        ("target=erin", {"a2"}),
        ("target=99", {"b1"}),
        ("date_from=2026-11-02", {"a2", "b1"}),
        ("date_to=2026-11-02", {"a1", "b1"}),
        ("date_from=2026-11-02&date_to=2026-11-02", {"b1"}),
        ("actor=alice&action=group", {"a2"}),
    ],
)
def test_filters_narrow_the_table_and_the_csv(client, alice, bob, acme, query, expected):
    event(acme, "member.suspend", actor=alice, label="a1", at=day("2026-11-01T12:00"))
    event(acme, "group.create", actor=alice, label="a2 erin", at=day("2026-11-03T00:00"))
    event(acme, "member.rename", actor=bob, label="b1", target_id="99", at=day("2026-11-02T23:59:59"))
    client.force_login(alice)
    body = client.get(f"/a/acme/audit/?{query}").content.decode()
    shown = {label for label in ("a1", "a2", "b1") if f'data-target="{label}' in body}
    assert shown == expected
    rows = csv_rows(client.get(f"/a/acme/audit/export.csv?{query}"))
    labels = {row[5].split()[0] for row in rows[1:]}
    assert labels & {"a1", "a2", "b1"} == expected


def test_no_match_says_so_and_still_offers_the_export(client, alice, acme):
    client.force_login(alice)
    body = client.get("/a/acme/audit/?actor=nobody-at-all").content.decode()
    assert "No events match." in body
    assert 'href="/a/acme/audit/export.csv?actor=nobody-at-all"' in body


@pytest.mark.parametrize(
    ("query", "error"),
    [
        ("date_from=yesterday", "Enter a valid date"),
        ("date_to=2026-13-45", "Enter a valid date"),
        ("date_from=2026-11-05&date_to=2026-11-01", "before the start date"),
        ("action=" + "x" * 65, "at most 64"),
    ],
)
def test_bad_filters_are_form_errors_not_500s(client, alice, acme, query, error):
    client.force_login(alice)
    response = client.get(f"/a/acme/audit/?{query}")
    assert response.status_code == 400 and error in response.content.decode()
    assert client.get(f"/a/acme/audit/export.csv?{query}").status_code == 400


def test_pages_hold_50_rows_newest_first_and_keep_the_filters(client, alice, acme):
    for n in range(120):
        event(acme, "test.rename", actor=alice, label=f"row-{n:03d}")
    event(acme, "group.create", actor=alice, label="other")
    client.force_login(alice)
    first = client.get("/a/acme/audit/?action=test").content.decode()
    assert first.count("data-audit-id=") == 50 and "row-119" in first and "row-069" not in first
    assert "page=2" in first and "action=test" in first
    last = client.get("/a/acme/audit/?action=test&page=3").content.decode()
    assert last.count("data-audit-id=") == 20 and "row-000" in last
    for page in ("999", "abc", "-1"):
        assert client.get(f"/a/acme/audit/?page={page}").status_code == 200


def test_the_query_count_does_not_grow_with_the_log(client, alice, acme, django_assert_max_num_queries):
    client.force_login(alice)
    for n in range(5):
        event(acme, actor=alice, label=f"few-{n}")
    with django_assert_max_num_queries(8) as few:
        client.get("/a/acme/audit/?actor=alice")
    for n in range(200):
        event(acme, f"action.{n % 7}", actor=alice, label=f"many-{n}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get("/a/acme/audit/?actor=alice")


# --- CSV ----------------------------------------------------------------------------------


def test_the_csv_streams_every_filtered_row_as_utf8_with_a_header(client, alice, acme):
    event(acme, "test.rename", actor=alice, label="Zoë Ångström", before={"first_name": "Zoe"},
          after={"first_name": "Zoë"}, ip="192.0.2.1", user_agent="UA")  # fmt: skip
    client.force_login(alice)
    response = client.get("/a/acme/audit/export.csv?action=test")
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="audit-acme-')
    header, row = csv_rows(response)
    assert header[:3] == ["time", "actor_email", "action"]
    assert row[1:6] == ["alice@acme.test", "test.rename", "membership", "7", "Zoë Ångström"]
    assert row[6] == '{"first_name": "Zoe"}' and row[7] == '{"first_name": "Zoë"}'
    assert row[8:] == ["192.0.2.1", "UA"]


@pytest.mark.parametrize("dangerous", ['=HYPERLINK("http://x")', "+1+2", "-2+3", "@SUM(A1)", "\t=1"])
def test_cells_that_spreadsheets_would_run_as_formulas_are_quoted(client, alice, acme, dangerous):
    event(acme, "test.rename", actor=alice, label=dangerous, user_agent=dangerous)
    client.force_login(alice)
    row = csv_rows(client.get("/a/acme/audit/export.csv?action=test"))[1]
    assert row[5] == "'" + dangerous and row[9] == "'" + dangerous


def test_harmless_cells_are_left_alone(client, alice, acme):
    event(acme, "test.rename", actor=alice, label="bob-smith@acme.test")
    client.force_login(alice)
    assert csv_rows(client.get("/a/acme/audit/export.csv?action=test"))[1][5] == "bob-smith@acme.test"


# --- immutability -------------------------------------------------------------------------


def test_audit_rows_cannot_be_changed_or_deleted(acme, alice):
    row = audit_record(action="member.suspend", account=acme, actor=alice, target_label="x")
    row.action = "member.reactivate"
    with pytest.raises(TypeError):
        row.save()
    with pytest.raises(TypeError):
        row.delete()
    with pytest.raises(TypeError):
        AuditEvent.objects.filter(pk=row.pk).update(action="nothing")
    with pytest.raises(TypeError):
        AuditEvent.objects.filter(pk=row.pk).delete()
    assert AuditEvent.objects.get(pk=row.pk).action == "member.suspend"


def test_the_django_admin_lists_audit_rows_and_cannot_change_them(rf, db):
    assert admin.site.is_registered(AuditEvent)  # accounts/admin.py AuditEventAdmin
    model_admin = admin.site._registry[AuditEvent]
    request = rf.get("/admin/")
    request.user = make_user("operator@atrium.test")
    request.user.is_staff = request.user.is_superuser = True
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)
