"""The "entitlements" ledger kind and the tenant API call behind it: one versioned document per
tenant and region, PUT whole with the ledger's version, a token of scope `tenant` (SCIM keeps
scope `scim`), every failure a RegionError. A stand-in region answers through httpx's
MockTransport in place of the keep-alive client the module keeps per machine URL."""

import json

import httpx
import pytest

from conftest import make_region
from regions import client, kinds
from regions.ledger import ledger_desire, ledger_push
from regions.models import ProvisioningRecord

State = ProvisioningRecord.State
MACHINE_URL = "https://127.0.0.1:9501"
ACME_DOC = {"tenant": "acme", "products": [{"code": "backup", "status": "active", "ends_at": None}]}


class FakeRegion:
    """Records each request (with the scope of the token it carried) and answers with `reply`."""

    def __init__(self):
        self.requests: list[tuple[httpx.Request, str]] = []
        self.held = 0
        self.reply = None  # a callable(request) -> httpx.Response, or None for a real-ish region

    def handle(self, request: httpx.Request) -> httpx.Response:
        scope = request.headers["Authorization"].removeprefix("Bearer token-for-")
        self.requests.append((request, scope))
        if self.reply is not None:
            return self.reply(request)
        self.held = max(self.held, json.loads(request.content)["version"])
        return httpx.Response(200, json={"version": self.held})

    @property
    def bodies(self) -> list[dict]:
        return [json.loads(r.content) for r, _ in self.requests if r.content]


@pytest.fixture
def region(monkeypatch):
    fake = FakeRegion()
    tokens = []

    def fake_token(*, audience, scope="scim", fresh=False):
        tokens.append((audience, scope, fresh))
        return f"token-for-{scope}"

    monkeypatch.setattr(client, "m2m_token", fake_token)
    fake.tokens = tokens
    transport = httpx.MockTransport(fake.handle)
    monkeypatch.setitem(
        client._http_clients, MACHINE_URL, httpx.Client(base_url=MACHINE_URL, transport=transport)
    )
    return fake


def put(version: int = 1, document: dict = ACME_DOC) -> int:
    return client.tenant_entitlements_put(
        machine_url=MACHINE_URL, tenant="acme", document=document, version=version
    )


# --- regions.client.tenant_entitlements_put ----------------------------------------------------
def test_it_puts_the_document_with_its_version_to_the_tenant_api(region):
    assert put(version=3) == 3
    ((request, scope),) = region.requests
    assert request.method == "PUT"
    assert request.url.path == "/tenant/v1/acme/entitlements"
    assert request.headers["Content-Type"] == "application/json"
    assert scope == "tenant"
    assert json.loads(request.content) == {**ACME_DOC, "version": 3}


def test_it_returns_the_newer_version_a_region_already_holds(region):
    region.held = 8
    assert put(version=5) == 8


def test_scim_calls_still_ask_for_a_scim_token(region):
    region.reply = lambda request: httpx.Response(200, json={"totalResults": 0, "Resources": []})
    client.scim_user_find(machine_url=MACHINE_URL, tenant="acme", external_id="ext-1")
    assert [scope for _, scope in region.requests] == ["scim"]


def test_a_401_is_retried_once_with_a_fresh_tenant_token(region):
    answers = iter(
        [httpx.Response(401, json={"detail": "expired"}), httpx.Response(200, json={"version": 1})]
    )
    region.reply = lambda request: next(answers)
    assert put() == 1
    assert [(scope, fresh) for _, scope, fresh in region.tokens] == [("tenant", False), ("tenant", True)]


@pytest.mark.parametrize(
    ("status", "retryable"), [(400, False), (403, False), (404, False), (429, True), (500, True), (503, True)]
)
def test_a_refusal_is_a_region_error_retryable_as_its_status_says(region, status, retryable):
    region.reply = lambda request: httpx.Response(status, json={"status": str(status), "detail": "no"})
    with pytest.raises(client.RegionError) as caught:
        put()
    assert caught.value.status == status
    assert caught.value.retryable is retryable


@pytest.mark.parametrize(
    "reply",
    [
        httpx.Response(200, text="<html>ok</html>"),
        httpx.Response(200, json={"ok": True}),
        httpx.Response(200, json={"version": "2"}),
        httpx.Response(200, json={"version": 1}),  # less than it was sent: not applied
        httpx.Response(200, json=[1]),
    ],
)
def test_a_2xx_without_a_held_version_is_a_region_error(region, reply):
    region.reply = lambda request: reply
    with pytest.raises(client.RegionError):
        put(version=2)


def test_an_unreachable_region_is_a_region_error(region):
    def refuse(request):
        raise httpx.ConnectError("refused", request=request)

    region.reply = refuse
    with pytest.raises(client.RegionError) as caught:
        put()
    assert caught.value.retryable


# --- the ledger kind ------------------------------------------------------------------------
def test_the_entitlements_kind_is_registered():
    assert isinstance(kinds.KINDS["entitlements"], kinds.EntitlementsKind)
    assert ProvisioningRecord.Kind.ENTITLEMENTS == "entitlements"


@pytest.mark.django_db(transaction=True)
def test_a_recorded_document_is_pushed_with_the_ledgers_version_and_synced(region):
    us = make_region("us", 8501, 9501)
    (row,) = ledger_desire(
        kind="entitlements", tenant="acme", object_key="entitlements", regions=[us], desired=ACME_DOC
    )
    assert ledger_push(record_id=row.pk) == State.SYNCED
    newer = {"tenant": "acme", "products": []}
    ledger_desire(kind="entitlements", tenant="acme", object_key="entitlements", regions=[us], desired=newer)
    assert ledger_push(record_id=row.pk) == State.SYNCED
    row.refresh_from_db()
    assert region.bodies == [{**ACME_DOC, "version": 1}, {**newer, "version": 2}]
    assert (row.acked_version, row.desired_version, row.acked) == (2, 2, newer)


@pytest.mark.django_db(transaction=True)
def test_removing_the_document_makes_the_region_enforce_no_product(region):
    us = make_region("us", 8501, 9501)
    (row,) = ledger_desire(
        kind="entitlements", tenant="acme", object_key="entitlements", regions=[us], desired=ACME_DOC
    )
    ledger_push(record_id=row.pk)
    ledger_desire(kind="entitlements", tenant="acme", object_key="entitlements", regions=[us], desired=None)
    assert ledger_push(record_id=row.pk) == State.SYNCED
    assert region.bodies[-1] == {"tenant": "acme", "products": [], "version": 2}


@pytest.mark.django_db(transaction=True)
def test_a_document_the_region_refuses_fails_the_row_for_good(region):
    us = make_region("us", 8501, 9501)
    region.reply = lambda request: httpx.Response(400, json={"status": "400", "detail": "bad status"})
    (row,) = ledger_desire(
        kind="entitlements", tenant="acme", object_key="entitlements", regions=[us], desired=ACME_DOC
    )
    assert ledger_push(record_id=row.pk) == State.FAILED
    row.refresh_from_db()
    assert "bad status" in row.last_error
