"""A person deletes their own Atrium identity on /profile/delete/: a real worker removes them
from every region over SCIM, their regional session ends, and they cannot sign in again."""

import httpx
import pytest
from django.db.models import F

from accounts.models import AuditEvent, Membership, User
from conftest import PASSWORD
from regions import client as region_client
from regions.models import ProvisioningRecord
from tests.e2e.conftest import account_uses, csrf_token_in, portal_login_via, wait_for

pytestmark = pytest.mark.e2e


def settled(public_id, *, removed: bool) -> bool:
    records = list(ProvisioningRecord.objects.filter(kind="user", object_key=str(public_id)))
    return (
        {r.region.code for r in records} == {"us", "eu"}
        and all(r.state == ProvisioningRecord.State.SYNCED for r in records)
        and all((r.desired is None) is removed for r in records)
        and not ProvisioningRecord.objects.filter(object_key=str(public_id))
        .exclude(acked_version=F("desired_version"))
        .exists()
    )


def remote(region, public_id):
    return region_client.scim_user_find(
        machine_url=region.machine_url, tenant="acme", external_id=str(public_id)
    )


def test_a_deleted_identity_leaves_every_region_and_its_session_ends(
    client, worker, regions, region_processes, alice, bob, acme
):
    # given Acme uses US and EU, bob is in both and signed in to EU
    account_uses(acme, [regions["us"], regions["eu"]])
    public_id = bob.public_id
    wait_for(lambda: settled(public_id, removed=False), what="bob synced in us and eu")
    eu = region_processes["eu"]
    browser = httpx.Client(follow_redirects=True, timeout=30)
    page = portal_login_via(browser, eu.people_url + "/", "bob@acme.test", PASSWORD)
    assert 'data-testid="region-user-email">bob@acme.test<' in page.text

    # when bob deletes his identity on his profile
    client.force_login(bob)
    response = client.post("/profile/delete/", {"confirm_email": "bob@acme.test"})
    assert response.status_code == 302

    # then no region holds him, the worker having delivered each deletion
    wait_for(lambda: settled(public_id, removed=True), what="bob's deletions confirmed")
    assert remote(regions["us"], public_id) is None
    assert remote(regions["eu"], public_id) is None
    assert not User.objects.filter(public_id=public_id).exists()
    assert not Membership.objects.filter(account=acme, user__public_id=public_id).exists()
    # his EU session is over
    again = browser.get(eu.people_url + "/")
    assert 'data-testid="region-user-email">bob@acme.test<' not in again.text
    # he cannot sign in to Atrium any more
    fresh = httpx.Client(follow_redirects=True, timeout=30)
    login = fresh.get(eu.people_url + "/")
    denied = fresh.post(
        str(login.url),
        data={
            "csrfmiddlewaretoken": csrf_token_in(login.text),
            "login": "bob@acme.test",
            "password": PASSWORD,
        },
        headers={"Referer": str(login.url)},
    )
    assert "/accounts/login/" in str(denied.url)
    # and Acme's audit log says so (alice, its owner, stays)
    assert AuditEvent.objects.filter(
        account=acme, action="profile.delete", actor_email="bob@acme.test"
    ).exists()
    assert remote(regions["eu"], alice.public_id) is not None
