# ruff: noqa: F811 - fixtures imported from test_entitlements_api are redefined as parameters
"""The region's tenant API under hostile bodies: huge integers and odd fields are 4xx or stored clean, never a 500."""

import pytest

from atrium_kit.tests.test_entitlements_api import document, machine, put  # noqa: F401

pytestmark = pytest.mark.django_db


def test_huge_integer_version_is_400_not_500(machine):
    body = '{"tenant": "acme", "products": [], "version": ' + "9" * 5000 + "}"
    response = put(machine, body)
    assert response.status_code == 400, response.status_code


def test_nul_in_extra_field_is_not_500(machine):
    body = document()
    body["products"][0]["x"] = "a\x00b"
    response = put(machine, body)
    assert response.status_code in (200, 400), response.content
