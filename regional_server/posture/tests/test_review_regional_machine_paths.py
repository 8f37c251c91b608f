"""Hostile review of the machine listener's paths: a tenant slug that is no slug, a trailing
slash, or an unknown product under `/tenant/v1/<tenant>/products/` gets the tenant API's JSON
404 (`{"status", "detail"}`), never the people listener's HTML page — Atrium's client reads
JSON; and a token with scope `scim` only, or none, never gets that far."""

import pytest

from atrium_kit.tests.test_machine_auth import machine_token
from posture.tests.test_machine_summary import acme_scanned, atrium, machine, summary  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("tenant", ["ACME", "acme%0A", "a" * 41, "acme%00", "-acme", "acme%2F..%2Fglobex"])
def test_a_tenant_path_that_is_no_slug_is_a_json_404(atrium, machine, tenant):  # noqa: F811
    response = summary(machine, tenant)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["status"] == "404"


@pytest.mark.parametrize(
    "path",
    ["/tenant/v1/acme/products/posture/alerts/summary/", "/tenant/v1/acme/products/nope/x", "/tenant/x"],
)
def test_an_unknown_machine_path_is_a_json_404(atrium, machine, acme_scanned, path):  # noqa: F811
    response = machine.get(path, HTTP_AUTHORIZATION=f"Bearer {machine_token(scope='tenant')}")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"


def test_a_scim_token_never_reaches_a_tenant_path_not_even_an_unknown_one(atrium, machine):  # noqa: F811
    for path in ("/tenant/v1/acme/products/posture/alerts/summary", "/tenant/v1/ACME/x"):
        response = machine.get(path, HTTP_AUTHORIZATION=f"Bearer {machine_token(scope='scim')}")
        assert response.status_code == 403 and response.json()["detail"] == "The token lacks scope 'tenant'."
