"""A region (or a proxy in front of it) answering 2xx with junk: every SCIM read of the answer is a
RegionError, which the ledger records as a retryable failure — never a ValueError, TypeError or
RecursionError that escapes the push and leaves the row leased until the sweep."""

import httpx
import pytest

from regions import client


def _response(body: str, status: int = 200) -> httpx.Response:
    return httpx.Response(status, text=body, request=httpx.Request("GET", "https://r/scim/v2/acme/Users"))


JUNK = [
    "<html>maintenance</html>",
    "[]",
    '"busy"',
    "[" * 5000 + "]" * 5000,
    "null",
]


@pytest.mark.parametrize("body", JUNK)
def test_a_2xx_that_is_no_json_object_is_a_region_error(body):
    with pytest.raises(client.RegionError, match="SCIM Users replace"):
        client._answer(_response(body), "SCIM Users replace")


@pytest.mark.parametrize(
    "resource", [{}, {"id": ""}, {"id": None}, {"id": True}, {"id": ["x"]}, "abc", None, 7]
)
def test_a_resource_without_a_usable_id_is_a_region_error(resource):
    with pytest.raises(client.RegionError, match="without an id"):
        client._remote(resource)


def test_a_resource_with_an_id_is_read():
    remote = client._remote({"id": "u-1", "externalId": "e-1", "userName": "bob@acme.test", "active": False})
    assert (remote.remote_id, remote.external_id, remote.user_name, remote.active) == (
        "u-1",
        "e-1",
        "bob@acme.test",
        False,
    )


@pytest.mark.parametrize(
    "body",
    ['{"Resources": "x"}', '{"Resources": [{"id": "u-1"}], "totalResults": "many"}', '{"Resources": [7]}'],
)
def test_a_list_page_outside_scims_shape_is_a_region_error(monkeypatch, body):
    monkeypatch.setattr(client, "_scim", lambda *a, **k: _response(body))
    with pytest.raises(client.RegionError):
        client._list("https://r", "acme", "Users", 100)


@pytest.mark.parametrize("body", ['{"Resources": "x"}', "[]", '{"Resources": [{"name": "no id"}]}'])
def test_a_lookup_outside_scims_shape_is_a_region_error(monkeypatch, body):
    monkeypatch.setattr(client, "_scim", lambda *a, **k: _response(body))
    with pytest.raises(client.RegionError):
        client._find("https://r", "acme", "Users", "e-1")
