"""The account switcher in the navigation (portal/context_processors_accounts.py and
templates/_nav.html): the person's open accounts with their role, the current one marked."""

import pytest
from django.test import RequestFactory

from accounts.models import Membership
from accounts.services import account_close, account_create, membership_add
from portal.context_processors_accounts import account_switcher

pytestmark = pytest.mark.django_db

PROCESSOR = "portal.context_processors_accounts.account_switcher"


@pytest.fixture(autouse=True)
def switcher_installed(settings):
    """Until portal/settings.py lists the context processor, the tests install it."""
    engines = [dict(engine, OPTIONS=dict(engine["OPTIONS"])) for engine in settings.TEMPLATES]
    processors = engines[0]["OPTIONS"]["context_processors"]
    if PROCESSOR not in processors:
        engines[0]["OPTIONS"]["context_processors"] = [*processors, PROCESSOR]
    settings.TEMPLATES = engines


@pytest.fixture
def alice_everywhere(alice, acme, globex):
    """alice: owner of Acme, read-only in Globex, owner of a closed account, leaving Initech."""
    membership_add(account=globex, user=alice, role=Membership.Role.READ_ONLY)
    account_close(account=account_create(name="Closedco", slug="closedco", owner=alice))
    initech = account_create(name="Initech", slug="initech", owner=None)
    membership_add(account=initech, user=alice, role="member")
    Membership.objects.filter(account=initech, user=alice).update(status="removing")
    return alice


def switcher_links(body: str) -> list[str]:
    menu = body.split('data-testid="account-switcher"', 1)[1].split("</details>", 1)[0]
    return [chunk.split('"', 1)[0] for chunk in menu.split('data-account="')[1:]]


def test_it_lists_only_the_persons_open_accounts_with_their_roles(client, alice_everywhere):
    client.force_login(alice_everywhere)
    body = client.get("/a/acme/").content.decode()
    assert switcher_links(body) == ["acme", "globex"]
    assert 'href="/a/globex/"' in body and "Read-only" in body and "Owner" in body
    assert "Closedco" not in body and "Initech" not in body


def test_the_current_account_is_marked(client, alice_everywhere):
    client.force_login(alice_everywhere)
    body = client.get("/a/globex/").content.decode()
    assert 'data-account="globex" aria-current="true"' in body
    assert 'data-account="acme" aria-current' not in body


def test_it_shows_no_menu_to_someone_with_one_account(client, bob, acme):
    client.force_login(bob)
    body = client.get("/a/acme/").content.decode()
    assert 'data-testid="account-switcher"' not in body
    assert 'href="/a/acme/" data-account="acme" aria-current="true"' in body


def test_it_never_shows_another_persons_accounts(client, carol, globex, alice_everywhere):
    client.force_login(carol)
    body = client.get("/a/globex/").content.decode()
    assert 'data-account="acme"' not in body and "Acme" not in body


def test_anonymous_visitors_get_no_switcher(client, acme):
    body = client.get("/accounts/login/").content.decode()
    assert "data-account=" not in body


def test_it_costs_one_query_and_none_when_unused(alice_everywhere, django_assert_num_queries):
    request = RequestFactory().get("/")
    request.user = alice_everywhere
    with django_assert_num_queries(0):
        context = account_switcher(request)
    with django_assert_num_queries(1):
        names = [m.account.name for m in context["switcher_memberships"]]
        roles = [m.get_role_display() for m in context["switcher_memberships"]]
    assert names == ["Acme", "Globex"] and roles == ["Owner", "Read-only"]
