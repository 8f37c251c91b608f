"""Connected apps with a REAL relying party: tests/e2e/rp_app (its own gunicorn process, no Atrium
import) runs the code flow with PKCE against the live portal and shows the email of the ID token.
A browser-like httpx client follows every redirect, as a person's browser would."""

import subprocess

import httpx
import pytest
from allauth.idp.oidc.models import Client
from django.conf import settings

from accounts.client_secrets import client_secret_hash
from accounts.connected_apps import connected_app_register
from accounts.models import AppEnablement, Membership
from conftest import PASSWORD
from tests.e2e.conftest import (
    BIN,
    ROOT,
    csrf_token_in,
    free_port,
    portal_login_via,
    stop_process,
    wait_until_up,
)

pytestmark = pytest.mark.e2e

RP_CLIENT_ID = "app-team-chat"
RP_SECRET = "test-rp-secret-0123456789abcdef"


@pytest.fixture(scope="session")
def rp(live_server, tmp_path_factory):
    """The relying party's process, started once; it trusts the live server as its issuer."""
    previous = settings.ATRIUM_ISSUER
    settings.ATRIUM_ISSUER = live_server.url
    url = f"http://127.0.0.1:{free_port()}"
    log = open(tmp_path_factory.mktemp("rp") / "rp.log", "w")  # noqa: SIM115 - lives with the process
    process = subprocess.Popen(
        [str(BIN / "gunicorn"), "app:application", "--bind", url.split("://", 1)[1], "--worker-class", "gthread",
         "--threads", "4", "--no-control-socket", "--graceful-timeout", "1"],
        cwd=ROOT / "tests" / "e2e" / "rp_app", start_new_session=True, stdout=log, stderr=subprocess.STDOUT,
        env={"PATH": str(BIN), "RP_ISSUER": live_server.url, "RP_CLIENT_ID": RP_CLIENT_ID,
             "RP_CLIENT_SECRET": RP_SECRET, "RP_BASE_URL": url},
    )  # fmt: skip
    try:
        wait_until_up(lambda: httpx.get(url + "/healthz", timeout=1), process)
        yield url
    finally:
        stop_process(process)
        log.close()
        settings.ATRIUM_ISSUER = previous


@pytest.fixture
def team_chat(rp, transactional_db):
    """Team Chat registered as staff would (the secret set to the one the RP was started with,
    since transactional tests truncate the clients between tests)."""
    app = connected_app_register(
        name="Team Chat", launch_url=rp + "/login", redirect_uris=[rp + "/callback"], icon="💬"
    ).app
    assert app.client_id == RP_CLIENT_ID
    Client.objects.filter(pk=RP_CLIENT_ID).update(secret=client_secret_hash(RP_SECRET))
    return app


def new_browser() -> httpx.Client:
    return httpx.Client(follow_redirects=True, timeout=30)


def callbacks_seen(rp: str) -> list[dict]:
    return httpx.get(rp + "/seen", timeout=5).json()


def enable_through_the_portal(live_server, app, *, slug: str, email: str) -> None:
    """The account admin signs in to the portal and enables the app on the apps page."""
    admin = new_browser()
    login = admin.get(f"{live_server.url}/accounts/login/?next=/a/{slug}/apps/enable/{app.pk}/")
    form = admin.post(
        str(login.url),
        data={"csrfmiddlewaretoken": csrf_token_in(login.text), "login": email, "password": PASSWORD},
        headers={"Referer": str(login.url)},
    )
    assert form.status_code == 200 and f"Enable {app.name}" in form.text
    done = admin.post(
        str(form.url),
        data={"csrfmiddlewaretoken": csrf_token_in(form.text), "audience": "everyone"},
        headers={"Referer": str(form.url)},
    )
    assert done.status_code == 200 and f"{app.name} is enabled" in done.text


def disable_through_the_portal(live_server, *, slug: str, email: str, enablement_id: int) -> None:
    admin = new_browser()
    path = f"/a/{slug}/apps/{enablement_id}/disable/"
    login = admin.get(f"{live_server.url}/accounts/login/?next={path}")
    confirm = admin.post(
        str(login.url),
        data={"csrfmiddlewaretoken": csrf_token_in(login.text), "login": email, "password": PASSWORD},
        headers={"Referer": str(login.url)},
    )
    assert confirm.status_code == 200 and "Disable Team Chat" in confirm.text
    done = admin.post(
        str(confirm.url),
        data={"csrfmiddlewaretoken": csrf_token_in(confirm.text)},
        headers={"Referer": str(confirm.url)},
    )
    assert done.status_code == 200 and "is disabled" in done.text


def test_an_enabled_member_opens_the_app_from_the_launcher_and_is_signed_in(
    live_server, rp, team_chat, alice, bob, acme
):
    enable_through_the_portal(live_server, team_chat, slug="acme", email="alice@acme.test")
    browser = new_browser()
    # bob signs in to the portal, and the launcher offers Team Chat
    login = browser.get(f"{live_server.url}/accounts/login/?next=/a/acme/apps/")
    launcher = browser.post(
        str(login.url),
        data={
            "csrfmiddlewaretoken": csrf_token_in(login.text),
            "login": "bob@acme.test",
            "password": PASSWORD,
        },
        headers={"Referer": str(login.url)},
    )
    assert f'href="{rp}/login"' in launcher.text
    before = len(callbacks_seen(rp))
    # "Open" runs the app's code flow: no second password, and the app shows bob's email
    opened = browser.get(rp + "/login")
    assert opened.status_code == 200, opened.text
    assert str(opened.url).startswith(rp + "/callback")
    assert '<b data-rp="email">bob@acme.test</b>' in opened.text
    assert all("/accounts/login/" not in str(hop.url) for hop in opened.history)
    seen = callbacks_seen(rp)[before:]
    assert len(seen) == 1 and "code" in seen[0]


def test_a_member_of_an_account_that_has_not_enabled_the_app_is_refused_and_no_code_reaches_it(
    live_server, rp, team_chat, alice, acme, carol, globex
):
    enable_through_the_portal(live_server, team_chat, slug="acme", email="alice@acme.test")
    before = len(callbacks_seen(rp))
    refused = portal_login_via(new_browser(), rp + "/login", "carol@globex.test", PASSWORD)
    assert refused.status_code == 403
    assert str(refused.url).startswith(live_server.url + "/identity/o/authorize")
    assert "You cannot sign in to Team Chat" in refused.text
    assert "Globex" in refused.text and "/a/globex/apps/" in refused.text  # carol owns Globex
    assert len(callbacks_seen(rp)) == before


def test_after_the_admin_disables_the_app_the_next_sign_in_is_refused(
    live_server, rp, team_chat, alice, bob, acme
):
    enable_through_the_portal(live_server, team_chat, slug="acme", email="alice@acme.test")
    browser = new_browser()
    first = portal_login_via(browser, rp + "/login", "bob@acme.test", PASSWORD)
    assert '<b data-rp="email">bob@acme.test</b>' in first.text
    enablement = AppEnablement.objects.get(account=acme, app=team_chat)
    disable_through_the_portal(live_server, slug="acme", email="alice@acme.test", enablement_id=enablement.pk)
    before = len(callbacks_seen(rp))
    # bob is still signed in at Atrium: the next sign-in to the app stops at the authorize step
    again = browser.get(rp + "/login")
    assert again.status_code == 403
    assert "You cannot sign in to Team Chat" in again.text and "alice@acme.test" in again.text
    assert len(callbacks_seen(rp)) == before
    assert Membership.objects.get(account=acme, user=bob).is_active  # bob himself is untouched


def test_the_relying_party_reads_atriums_discovery_and_asks_for_a_pkce_code(rp, team_chat):
    started = httpx.get(rp + "/login", timeout=10)
    assert started.status_code == 302
    location = started.headers["location"]
    assert location.startswith(settings.ATRIUM_ISSUER + "/identity/o/authorize?")
    assert "code_challenge_method=S256" in location and f"client_id={RP_CLIENT_ID}" in location
