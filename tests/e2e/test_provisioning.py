"""Change once, everywhere: the members page writes the ledger, a real Celery worker pushes
SCIM over mutual TLS with Atrium's machine tokens, real regional servers apply it."""

import re

import httpx
import pytest
from django.db.models import F

from accounts.models import Membership
from accounts.services import membership_add
from conftest import make_user
from regions import client as region_client
from regions.models import ProvisioningRecord
from tests.e2e.conftest import account_uses, csrf_token_in, wait_for

pytestmark = pytest.mark.e2e
State = ProvisioningRecord.State


def states_of(user) -> dict[str, str]:
    records = ProvisioningRecord.objects.filter(object_key=str(user.public_id)).select_related("region")
    return {r.region.code: r.state for r in records}


def wait_synced(user, codes=("us", "eu"), timeout=30):
    wait_for(
        lambda: (
            states_of(user) == dict.fromkeys(codes, State.SYNCED)
            and not ProvisioningRecord.objects.filter(object_key=str(user.public_id))
            .exclude(acked_version=F("desired_version"))
            .exists()
        ),
        timeout=timeout,
        what=f"{user.email} synced in {codes}",
    )


def remote(region, tenant, user):
    return region_client.scim_user_find(
        machine_url=region.machine_url, tenant=tenant, external_id=str(user.public_id)
    )


def test_a_member_added_once_appears_changes_is_suspended_and_removed_in_both_regions(
    client, worker, regions, region_processes, alice, acme, mailoutbox
):
    # given Acme uses US and EU
    account_uses(acme, [regions["us"], regions["eu"]])
    client.force_login(alice)
    # when alice invites an employee
    response = client.post(
        "/a/acme/invitations/new/",
        {"email": "erin@acme.test", "first_name": "Erin", "last_name": "Evans", "role": "member",
         "region_access": "all"},
    )  # fmt: skip
    assert response.status_code == 302
    # and erin accepts from the mail (the live server commits, so the mail went out): she sets a
    # password and is signed in at Atrium
    link = re.search(r"http://\S+/invite/\S+", mailoutbox[-1].body).group(0)
    browser = httpx.Client(follow_redirects=True, timeout=30)
    form = browser.get(link)
    accepted = browser.post(
        str(form.url),
        data={"csrfmiddlewaretoken": csrf_token_in(form.text), "first_name": "Erin", "last_name": "Evans",
              "password": "erin-new-pass-2026", "password_again": "erin-new-pass-2026"},
        headers={"Referer": str(form.url)},
    )  # fmt: skip
    assert accepted.url.path == "/a/acme/", accepted.text[:500]
    erin = Membership.objects.get(account=acme, user__email="erin@acme.test").user
    # then both regions hold her, checked over HTTPS with the worker's credentials
    wait_synced(erin)
    for code in ("us", "eu"):
        found = remote(regions[code], "acme", erin)
        assert found is not None and found.user_name == "erin@acme.test" and found.active
        assert found.resource["name"]["givenName"] == "Erin"

    # and she opens EU with her Atrium session: no second password
    eu = region_processes["eu"]
    home = browser.get(eu.people_url + "/")
    assert 'data-testid="region-user-email">erin@acme.test<' in home.text

    # when she is renamed
    membership = Membership.objects.get(account=acme, user=erin)
    client.post(f"/a/acme/members/{membership.pk}/rename/", {"first_name": "Erin", "last_name": "Everett"})
    # then both regions follow
    wait_synced(erin)
    assert all(
        remote(regions[c], "acme", erin).resource["name"]["familyName"] == "Everett" for c in ("us", "eu")
    )

    # when she is suspended
    client.post(f"/a/acme/members/{membership.pk}/suspend/")
    wait_synced(erin)
    # then she is inactive everywhere and her EU session has ended: EU refuses her
    assert all(remote(regions[c], "acme", erin).active is False for c in ("us", "eu"))
    again = browser.get(eu.people_url + "/")
    assert again.status_code == 403
    assert "erin@acme.test" not in again.text

    # when she is removed
    client.post(f"/a/acme/members/{membership.pk}/remove/")
    wait_synced(erin)
    # then no region holds her
    assert remote(regions["us"], "acme", erin) is None
    assert remote(regions["eu"], "acme", erin) is None


def test_a_region_that_is_down_shows_retrying_then_converges_through_the_sweeper(
    client, worker, regions, region_processes, alice, acme
):
    account_uses(acme, [regions["us"], regions["eu"]])
    wait_synced(alice)
    eu = region_processes["eu"]
    eu.stop("machine")
    try:
        client.force_login(alice)
        frank = make_user("frank@acme.test", "Frank")
        membership_add(account=acme, user=frank)
        # then US gets him and EU is retrying with the error visible on the page
        record = wait_for(
            lambda: ProvisioningRecord.objects.filter(
                object_key=str(frank.public_id), region__code="eu", state=State.RETRYING
            ).first(),
            what="EU retrying",
        )
        assert "unreachable" in record.last_error
        page = client.get("/a/acme/members/").content.decode()
        assert 'data-region="eu" data-sync-state="retrying"' in page
        assert "unreachable" in page  # the error, on hover
        wait_for(lambda: states_of(frank).get("us") == State.SYNCED, what="US synced")
    finally:
        eu.start("machine")
    # when EU is back, nothing is re-sent by hand: the beat sweeper delivers
    wait_synced(frank, timeout=45)
    assert remote(regions["eu"], "acme", frank) is not None


def test_a_failed_row_can_be_retried_in_one_click(client, worker, regions, alice, acme, settings):
    account_uses(acme, [regions["us"]])
    wait_synced(alice, codes=("us",))
    record = ProvisioningRecord.objects.get(object_key=str(alice.public_id))
    ProvisioningRecord.objects.filter(pk=record.pk).update(
        state=State.FAILED, desired_version=record.desired_version + 1, last_error="gave up"
    )
    client.force_login(alice)
    page = client.get("/a/acme/members/").content.decode()
    assert 'data-retry="us"' in page
    client.post(f"/a/acme/sync/{record.pk}/retry/")
    wait_synced(alice, codes=("us",))
