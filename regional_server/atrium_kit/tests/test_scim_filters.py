# ruff: noqa: F811 - pytest fixtures imported from scim_support are redefined as parameters
"""RFC 7644 §3.4.2.2 filtering on Users and Groups; the tenant condition is ANDed in SQL."""

import pytest

from atrium_kit.tests.scim_support import acme, assert_scim_error, globex, machine_stack  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(acme):
    acme.create_user(
        "ann@acme.test", externalId="Ext-A", name={"givenName": "Ann", "familyName": "Archer"},
        displayName="Ann A", emails=[{"value": "ann@acme.test", "primary": True}, {"value": "ann@home.test"}],
    )  # fmt: skip
    acme.create_user("bob@acme.test", externalId="ext-b", name={"givenName": "Bob", "familyName": "Baker"})
    acme.create_user("cat@other.test", name={"givenName": "Cat"}, active=False)
    return acme


def names(scim, expression, resource="Users", key="userName"):
    response = scim.get(resource, {"filter": expression})
    assert response.status_code == 200, response.content
    return sorted(r[key] for r in response.json()["Resources"])


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ('userName eq "ANN@acme.test"', ["ann@acme.test"]),  # caseExact false
        ('userName ne "ann@acme.test"', ["bob@acme.test", "cat@other.test"]),
        ('userName co "acme"', ["ann@acme.test", "bob@acme.test"]),
        ('userName sw "B"', ["bob@acme.test"]),
        ('userName ew "other.test"', ["cat@other.test"]),
        ('userName gt "bob@acme.test"', ["cat@other.test"]),
        ('userName ge "bob@acme.test"', ["bob@acme.test", "cat@other.test"]),
        ('userName lt "bob@acme.test"', ["ann@acme.test"]),
        ('userName le "bob@acme.test"', ["ann@acme.test", "bob@acme.test"]),
        ("externalId pr", ["ann@acme.test", "bob@acme.test"]),
        ('externalId eq "ext-a"', []),  # caseExact true
        ('externalId eq "Ext-A"', ["ann@acme.test"]),
        ('externalId co "xt-"', ["ann@acme.test", "bob@acme.test"]),
        ('externalId sw "E"', ["ann@acme.test"]),
        ('name.givenName eq "bob"', ["bob@acme.test"]),
        ('name.familyName sw "ar"', ["ann@acme.test"]),
        ('displayName eq "Ann A"', ["ann@acme.test"]),
        ("displayName pr", ["ann@acme.test"]),
        ('emails.value eq "ann@home.test"', ["ann@acme.test"]),
        ('emails co "home"', ["ann@acme.test"]),
        ('emails[value ew "home.test"]', ["ann@acme.test"]),
        ("active eq false", ["cat@other.test"]),
        ('meta.created gt "2000-01-01T00:00:00Z"', ["ann@acme.test", "bob@acme.test", "cat@other.test"]),
        ('meta.lastModified lt "2000-01-01T00:00:00Z"', []),
        ('urn:ietf:params:scim:schemas:core:2.0:User:userName sw "cat"', ["cat@other.test"]),
    ],
)
def test_rfc7644_3_4_2_2_comparison_operators(people, expression, expected):
    assert names(people, expression) == expected


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ('userName sw "ann" or userName sw "bob"', ["ann@acme.test", "bob@acme.test"]),
        ('userName co "acme" and active eq true', ["ann@acme.test", "bob@acme.test"]),
        ('not (userName co "acme")', ["cat@other.test"]),
        # and binds tighter than or
        ('userName sw "cat" or userName sw "ann" and active eq false', ["cat@other.test"]),
        ('(userName sw "cat" or userName sw "ann") and active eq true', ["ann@acme.test"]),
        ("not (externalId pr) and not (active eq true)", ["cat@other.test"]),
    ],
)
def test_rfc7644_3_4_2_2_logical_operators_and_grouping(people, expression, expected):
    assert names(people, expression) == expected


def test_rfc7644_3_4_2_2_an_or_filter_cannot_escape_the_tenant(people, globex):
    globex.create_user("gina@globex.test")
    assert names(globex, 'userName eq "x" or userName pr') == ["gina@globex.test"]
    assert names(globex, 'not (userName eq "gina@globex.test") or externalId eq "Ext-A"') == []
    search = globex.search("Users", filter='userName eq "x" or userName pr')
    assert [r["userName"] for r in search.json()["Resources"]] == ["gina@globex.test"]


@pytest.mark.parametrize(
    "expression",
    [
        'userName zz "x"',
        "userName eq",
        'userName eq "x" and',
        '(userName eq "x"',
        'userName eq "x")',
        "userName eq unquoted",
        'nickName eq "x"',  # not supported
        'active gt "x"',
        'active eq "true"',
        'meta.created gt "yesterday"',
        "userName eq 5",
        'emails[type eq "work"]',
        "",
    ],
)
def test_rfc7644_3_4_2_2_invalid_filters_are_400_invalid_filter(people, expression):
    assert_scim_error(people.get("Users", {"filter": expression}), 400, "invalidFilter")


def test_rfc7644_3_4_2_2_the_portal_worker_finds_users_by_external_id(people):
    assert names(people, 'externalId eq "ext-b"') == ["bob@acme.test"]
