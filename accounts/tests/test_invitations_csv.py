"""CSV import of invitations: good files, and bad files reporting every bad row by line while
importing nothing."""

import io

import pytest
from django.core.exceptions import PermissionDenied

from accounts import invitations_csv
from accounts.groups import group_create
from accounts.invitations import InvitationImportError, invitations_import_csv
from accounts.models import AuditEvent, Invitation, Membership
from accounts.services import account_region_add, membership_remove
from accounts.tests.invitations_helpers import add_member, invite, link_path
from conftest import make_region

pytestmark = pytest.mark.django_db


@pytest.fixture
def regions(acme):
    eu, us = make_region("eu"), make_region("us", 8101, 9101)
    account_region_add(account=acme, region=eu)
    account_region_add(account=acme, region=us)
    make_region("au", 8103, 9103)  # exists, but Acme does not use it
    return {"eu": eu, "us": us}


@pytest.fixture
def groups(acme, owner):
    return {
        name: group_create(account=acme, actor=owner, name=name) for name in ("Backup operators", "Auditors")
    }


def upload(acme, actor, text: str | bytes):
    data = text.encode() if isinstance(text, str) else text
    return invitations_import_csv(account=acme, actor=actor, file=io.BytesIO(data))


def problems(acme, actor, text) -> dict[int, list[str]]:
    with pytest.raises(InvitationImportError) as caught:
        upload(acme, actor, text)
    assert not Invitation.objects.exists(), "a bad file imports nothing"
    assert not AuditEvent.objects.filter(action="invitation.create").exists()
    return {row.line: list(row.messages) for row in caught.value.rows}


# --- good files ---------------------------------------------------------------------------------


def test_a_good_file_invites_every_row_with_its_role_regions_and_groups(
    acme, owner, regions, groups, mailoutbox, django_capture_on_commit_callbacks
):
    text = (
        "email,name,role,regions,groups\n"
        "erin@example.com,Erin Evans,admin,eu;us,Backup operators;Auditors\n"
        "frank@example.com,Mary Ann Fox,read-only,eu,\n"
        "gina@example.com,,billing,,\n"
        "hal@example.com,Hal,,US EU,auditors\n"
    )
    with django_capture_on_commit_callbacks(execute=True):
        result = upload(acme, owner, text)
    assert result.count == 4
    by_email = {i.email: i for i in Invitation.objects.filter(account=acme)}
    erin, frank, gina, hal = (
        by_email[e] for e in ("erin@example.com", "frank@example.com", "gina@example.com", "hal@example.com")
    )
    assert (erin.first_name, erin.last_name, erin.role) == ("Erin", "Evans", "admin")
    assert erin.all_regions is False and {r.code for r in erin.regions.all()} == {"eu", "us"}
    assert {g.name for g in erin.groups.all()} == {"Backup operators", "Auditors"}
    assert (frank.first_name, frank.last_name, frank.role) == ("Mary Ann", "Fox", "read_only")
    assert [r.code for r in frank.regions.all()] == ["eu"] and not frank.groups.exists()
    assert gina.role == "billing" and gina.all_regions is True
    assert hal.role == "member" and {r.code for r in hal.regions.all()} == {"eu", "us"}
    assert [g.name for g in hal.groups.all()] == ["Auditors"]
    # one audit row and one mail with its own link each
    events = AuditEvent.objects.filter(action="invitation.create")
    assert events.count() == 4 and all(e.after["via"] == "csv" for e in events)
    assert sorted(m.to[0] for m in mailoutbox) == sorted(by_email)
    assert len({link_path(m) for m in mailoutbox}) == 4


def test_first_and_last_name_columns_a_bom_crlf_blank_lines_and_odd_header_case_are_fine(acme, owner):
    text = "\ufeffE-mail , First Name,Last name,Role\r\n\r\nerin@example.com,Erin,Evans,Member\r\n,,,\r\n"
    result = upload(acme, owner, text)
    (invitation,) = result.invitations
    assert (invitation.email, invitation.first_name, invitation.last_name) == (
        "erin@example.com",
        "Erin",
        "Evans",
    )


def test_an_email_column_alone_invites_members_with_every_region(acme, owner, regions):
    (invitation,) = upload(acme, owner, "email\nErin@Example.com\n").invitations
    assert invitation.email == "erin@example.com" and invitation.role == "member" and invitation.all_regions


def test_exactly_the_row_limit_is_accepted(acme, owner, monkeypatch):
    monkeypatch.setattr(invitations_csv, "MAX_ROWS", 3)
    text = "email\n" + "".join(f"p{i}@example.com\n" for i in range(3))
    assert upload(acme, owner, text).count == 3


def test_an_admin_imports_but_cannot_import_owners(acme):
    admin = add_member(acme, "adam@acme.test", "admin")
    found = problems(acme, admin, "email,role\nerin@example.com,admin\nowen@example.com,owner\n")
    assert found == {3: ["Only an owner can invite an owner."]}


# --- bad files: every row reported, nothing imported ----------------------------------------------


def test_every_bad_row_is_reported_with_its_line_number(acme, owner, regions, groups, bob):
    text = (
        "email,name,role,regions,groups\n"  # 1
        "good@example.com,Good One,member,eu,\n"  # 2
        "not-an-email,Bad Email,member,,\n"  # 3
        "role@example.com,Bad Role,emperor,,\n"  # 4
        "\n"  # 5 (blank: skipped)
        "region@example.com,Bad Region,member,eu;au,\n"  # 6
        "group@example.com,Bad Group,member,,Backup operators;Wizards\n"  # 7
        "good@example.com,Twice,member,,\n"  # 8
        "bob@acme.test,Bob,member,,\n"  # 9
        '"multi@example.com","Multi\nLine",member,xx,\n'  # 10-11
        ",No Email,member,,\n"  # 12
        "many@example.com,Many,emperor,zz,Nope\n"  # 13
    )
    found = problems(acme, owner, text)
    assert sorted(found) == [3, 4, 6, 7, 8, 9, 10, 12, 13]
    assert "not a valid email" in found[3][0]
    assert "“emperor” is not a role" in found[4][0]
    assert found[6] == ["Acme does not use region “au” (it uses: eu, us)."]
    assert found[7] == ["Acme has no group “Wizards”."]
    assert found[8] == ["good@example.com is also on line 2."]
    assert found[9] == ["bob@acme.test is already a member of Acme."]
    assert "region “xx”" in found[10][0]
    assert found[12] == ["The email is missing."]
    assert len(found[13]) == 3  # every problem of a row, not just the first


def test_the_error_carries_every_row_as_messages_too(acme, owner):
    with pytest.raises(InvitationImportError) as caught:
        upload(acme, owner, "email,role\nx,member\ny,member\n")
    assert caught.value.messages == [
        "Line 2: “x” is not a valid email address.",
        "Line 3: “y” is not a valid email address.",
    ]


def test_people_already_invited_or_being_removed_are_bad_rows(acme, owner, regions, bob):
    invite(acme, owner, "pending@example.com")
    membership_remove(membership=Membership.objects.get(account=acme, user=bob))
    with pytest.raises(InvitationImportError) as caught:
        upload(acme, owner, "email\npending@example.com\nbob@acme.test\nnew@example.com\n")
    found = {row.line: row.messages for row in caught.value.rows}
    assert "pending invitation" in found[2][0]
    assert "still being removed" in found[3][0]
    assert sorted(found) == [2, 3]
    assert list(Invitation.objects.values_list("email", flat=True)) == ["pending@example.com"]


def test_more_than_5000_rows_is_refused(acme, owner):
    text = "email\n" + "".join(f"p{i}@example.com\n" for i in range(5001))
    found = problems(acme, owner, text)
    assert found == {0: ["The file has more than 5,000 rows; split it."]}


def test_a_file_that_is_not_utf8_is_refused_with_the_line(acme, owner):
    data = "email,name\nerin@example.com,Erin\nfrank@example.com,Fran\u00e7ois\n".encode("latin-1")
    found = problems(acme, owner, data)
    assert found == {0: ["The file is not UTF-8 text (first bad byte on line 3); save it as “CSV UTF-8”."]}


def test_a_file_too_large_is_refused_before_parsing(acme, owner, monkeypatch):
    monkeypatch.setattr(invitations_csv, "MAX_BYTES", 20)
    found = problems(acme, owner, "email\n" + "a" * 30 + "@example.com\n")
    assert "larger than" in found[0][0]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "The file is empty"),
        ("\n\n", "The file is empty"),
        ("erin@example.com,Erin,member\n", "must be a header"),
        ("name,role\nErin,member\n", "no email column"),
        ("email,rgions\nerin@example.com,eu\n", "Unknown column(s): rgions"),
        ("email,email\na@example.com,b@example.com\n", "named twice: email"),
        ("email,name,first_name\na@example.com,A,A\n", "either a name column"),
        ("email\n", "a header but no rows"),
    ],
)
def test_a_file_without_a_proper_header_is_refused(acme, owner, text, expected):
    found = problems(acme, owner, text)
    assert expected in " ".join(message for messages in found.values() for message in messages)


def test_a_header_problem_is_reported_on_its_line(acme, owner):
    assert list(problems(acme, owner, "\nemail,wat\n")) == [2]


def test_a_row_with_more_cells_than_the_header_is_bad(acme, owner):
    found = problems(acme, owner, "email,name\nerin@example.com,Erin,admin\n")
    assert found == {2: ["The row has 3 cells but the header only 2 columns."]}


def test_broken_csv_is_a_file_error_not_a_crash(acme, owner):
    found = problems(acme, owner, 'email,name\nerin@example.com,"' + "x" * 200_000 + '"\n')
    assert found == {2: ["The file is not valid CSV (field larger than field limit (131072))."]}


# --- who may import --------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["member", "read_only", "billing"])
def test_roles_without_the_invite_permission_cannot_import(acme, role):
    actor = add_member(acme, f"{role}@acme.test", role)
    with pytest.raises(PermissionDenied):
        upload(acme, actor, "email\nerin@example.com\n")
    assert not Invitation.objects.exists()


def test_an_owner_of_another_account_cannot_import_into_this_one(acme, globex, carol):
    with pytest.raises(PermissionDenied):
        upload(acme, Membership.objects.get(account=globex, user=carol), "email\nerin@example.com\n")
