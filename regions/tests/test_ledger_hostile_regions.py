"""A region (or what stands in front of it) answering badly: absurd Retry-After values, a token
endpoint that answers 200 without a token, a redirected DELETE, a Retry-After that speaks for the
whole region. None of it may crash a push, confirm a deletion, or call a region early."""

from datetime import timedelta

import httpx
import pytest
from django.utils import timezone

from conftest import make_region
from regions import client, kinds
from regions.ledger import ledger_desire, ledger_push
from regions.models import ProvisioningRecord, Region
from regions.tests.test_ledger_fencing import ProbeKind

State = ProvisioningRecord.State


@pytest.fixture
def probe():
    kind = ProbeKind()
    kinds.register(kind)
    yield kind
    kinds.KINDS.pop("probe")


def _region_error(status: int, retry_after: str | None = None) -> client.RegionError:
    headers = {"Retry-After": retry_after} if retry_after else {}
    response = httpx.Response(
        status, headers=headers, text="busy", request=httpx.Request("PUT", "https://r/x")
    )
    try:
        client._raise_for(response, "SCIM Users replace")
    except client.RegionError as exc:
        return exc
    raise AssertionError("no error")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("retry_after", ["1e12", "inf"])
def test_an_absurd_retry_after_is_a_recorded_retryable_failure(probe, retry_after):
    us = make_region("us", 8401, 9401)
    (row,) = ledger_desire(kind="probe", tenant="acme", object_key="o-1", regions=[us], desired={"a": 1})
    probe.outcomes.put(_region_error(503, retry_after))
    # A region (or a proxy in front of it) answers 503 with a huge Retry-After: the push must be
    # recorded as a failure, not crash the task with the row left leased and attempts uncounted.
    state = ledger_push(record_id=row.pk)  # raises OverflowError today
    assert state == State.RETRYING


@pytest.mark.parametrize("body", ["<html>maintenance</html>", "{}"])
def test_token_endpoint_200_without_a_token_is_a_region_error(monkeypatch, settings, body):
    settings.ATRIUM_M2M_CLIENT_SECRET = "s"
    client.m2m_tokens_forget()
    request = httpx.Request("POST", "http://atrium/identity/o/api/token")
    monkeypatch.setattr(client.httpx, "post", lambda *a, **k: httpx.Response(200, text=body, request=request))
    # JSONDecodeError / KeyError escape today: callers "never see" anything but RegionError.
    with pytest.raises(client.RegionError):
        client.m2m_token(audience="https://127.0.0.1:9101")


def test_a_redirected_delete_is_not_a_confirmed_deletion(monkeypatch):
    still_there = {"id": "new-id", "externalId": "ext-1", "userName": "bob@acme.test"}

    def fake_scim(machine_url, method, path, *, json_body=None, params=None):
        request = httpx.Request(method, f"https://r{path}")
        if method == "DELETE":
            # e.g. a load balancer / maintenance redirect: nothing was deleted
            return httpx.Response(302, headers={"Location": "https://r/maintenance"}, request=request)
        return httpx.Response(200, json={"totalResults": 1, "Resources": [still_there]}, request=request)

    monkeypatch.setattr(client, "_scim", fake_scim)
    # the region still holds externalId ext-1, so the deletion must not count as confirmed
    with pytest.raises(client.RegionError):
        client.scim_user_delete(
            machine_url="https://r", tenant="acme", external_id="ext-1", remote_id="old-id"
        )


@pytest.mark.django_db(transaction=True)
def test_a_new_change_during_retry_after_gets_its_attempts_afresh(probe, settings):
    settings.ATRIUM_PUSH_MAX_ATTEMPTS = 2
    settings.ATRIUM_PUSH_GIVE_UP_AFTER = 0
    us = make_region("us", 8402, 9402)
    (row,) = ledger_desire(kind="probe", tenant="acme", object_key="o-1", regions=[us], desired={"v": 1})
    for _ in range(2):  # v1 fails for good, the region's last answer asked for 600 s of quiet
        probe.outcomes.put(_region_error(503, "600"))
        ProvisioningRecord.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
        Region.objects.filter(pk=us.pk).update(retry_not_before=None)  # (time passes)
        ledger_push(record_id=row.pk)
    row.refresh_from_db()
    assert row.state == State.FAILED and row.retry_not_before is not None
    # a new change is recorded while the region's quiet time runs
    ledger_desire(kind="probe", tenant="acme", object_key="o-1", regions=[us], desired={"v": 2})
    past = timezone.now() - timedelta(seconds=1)
    ProvisioningRecord.objects.filter(pk=row.pk).update(retry_not_before=past, next_attempt_at=past)
    Region.objects.filter(pk=us.pk).update(retry_not_before=past)
    # its first attempt fails (plain 503): a new change must not fail for good on its first try
    probe.outcomes.put(_region_error(503))
    state = ledger_push(record_id=row.pk)
    assert state == State.RETRYING, "the new version inherited the exhausted attempts of v1"


@pytest.mark.django_db(transaction=True)
def test_a_regions_retry_after_holds_for_a_new_row_in_that_region(probe):
    us = make_region("us", 8403, 9403)
    (first,) = ledger_desire(kind="probe", tenant="acme", object_key="o-1", regions=[us], desired={"a": 1})
    probe.outcomes.put(_region_error(429, "600"))
    ledger_push(record_id=first.pk)
    first.refresh_from_db()
    assert first.retry_not_before is not None
    # a new change for another object of the same region, while the region asked for quiet
    (second,) = ledger_desire(kind="probe", tenant="acme", object_key="o-2", regions=[us], desired={"a": 2})
    calls = len(probe.calls)
    ledger_push(record_id=second.pk)
    assert len(probe.calls) == calls, "the region was called before the Retry-After it asked for"
