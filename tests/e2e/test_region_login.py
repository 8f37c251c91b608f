"""One Atrium login opens every region the person's account uses (real processes, real HTTP)."""

import httpx
import pytest

from conftest import PASSWORD
from tests.e2e.conftest import portal_login_via, provision_into_region

pytestmark = pytest.mark.e2e


def new_browser() -> httpx.Client:
    return httpx.Client(follow_redirects=True, timeout=30)


def test_one_login_opens_two_regions_without_typing_the_password_again(
    regions, region_processes, alice, bob, acme
):
    # given alice is known to both regions through Acme
    us, eu = region_processes["us"], region_processes["eu"]
    provision_into_region(us, account=acme, users=[alice])
    provision_into_region(eu, account=acme, users=[alice])
    browser = new_browser()
    # when she opens US and logs in at Atrium
    landed = portal_login_via(browser, us.people_url + "/", "alice@acme.test", PASSWORD)
    # then she has a US session showing her
    assert str(landed.url) == us.people_url + "/"
    assert landed.status_code == 200
    assert 'data-testid="region-user-email">alice@acme.test<' in landed.text
    assert 'data-testid="region-tenant">acme<' in landed.text
    # and EU opens with the Atrium session alone (no login form on the way)
    eu_home = browser.get(eu.people_url + "/")
    assert eu_home.status_code == 200
    assert str(eu_home.url) == eu.people_url + "/"
    assert all("/accounts/login/" not in str(hop.url) for hop in eu_home.history)
    assert 'data-testid="region-user-email">alice@acme.test<' in eu_home.text


def test_a_person_the_region_does_not_know_gets_the_403_page(
    regions, region_processes, alice, acme, carol, globex
):
    us = region_processes["us"]
    provision_into_region(us, account=acme, users=[alice])
    browser = new_browser()
    refused = portal_login_via(browser, us.people_url + "/", "carol@globex.test", PASSWORD)
    assert refused.status_code == 403
    assert "Access refused" in refused.text
    # the refusal has a stable URL of its own (not the one-time callback) that names the reason
    assert str(refused.url) == us.people_url + "/refused/?reason=not_provisioned"
    assert "has no access to this region" in refused.text
    assert 'href="' + regions["us"].people_url not in refused.text
    # the page links back to the portal
    assert f'href="{_issuer()}/"' in refused.text


def test_reloading_the_callback_after_a_refusal_shows_the_refusal_not_a_traceback(
    regions, region_processes, alice, acme, carol, globex
):
    us = region_processes["us"]
    browser = new_browser()
    refused = portal_login_via(browser, us.people_url + "/", "carol@globex.test", PASSWORD)
    callback = next(str(hop.url) for hop in refused.history if "/oidc/callback/" in str(hop.url))
    # when the browser loads the used-up callback URL again (reload, back button)
    again = browser.get(callback)
    # then it lands on the refusal page, never a 400/500 with a traceback
    assert again.history[0].status_code == 302
    assert again.status_code == 403
    assert "/refused/" in str(again.url)
    assert "Traceback" not in again.text


def test_reloading_the_callback_after_a_login_goes_home(regions, region_processes, alice, acme):
    us = region_processes["us"]
    provision_into_region(us, account=acme, users=[alice])
    browser = new_browser()
    landed = portal_login_via(browser, us.people_url + "/", "alice@acme.test", PASSWORD)
    callback = next(str(hop.url) for hop in landed.history if "/oidc/callback/" in str(hop.url))
    again = browser.get(callback)
    assert again.status_code == 200
    assert str(again.url) == us.people_url + "/"
    assert 'data-testid="region-user-email">alice@acme.test<' in again.text


def test_a_deactivated_region_user_is_refused(regions, region_processes, bob, acme):
    eu = region_processes["eu"]
    provision_into_region(eu, account=acme, users=[bob])
    eu.manage(
        "region_user_add",
        "--tenant=acme",
        f"--external-id={bob.public_id}",
        f"--email={bob.email}",
        "--inactive",
    )
    refused = portal_login_via(new_browser(), eu.people_url + "/", "bob@acme.test", PASSWORD)
    assert refused.status_code == 403


def test_the_same_identity_in_a_tenant_of_another_region_does_not_open_this_one(
    regions, region_processes, carol, globex
):
    # carol is provisioned in EU only; US must not admit her just because Atrium knows her
    provision_into_region(region_processes["eu"], account=globex, users=[carol])
    browser = new_browser()
    assert (
        portal_login_via(
            browser, region_processes["eu"].people_url + "/", "carol@globex.test", PASSWORD
        ).status_code
        == 200
    )
    assert browser.get(region_processes["us"].people_url + "/").status_code == 403


def _issuer() -> str:
    from django.conf import settings

    return settings.ATRIUM_ISSUER
