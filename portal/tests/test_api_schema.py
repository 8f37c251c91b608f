"""The REST API is documented: the OpenAPI schema generates without errors or warnings (every
endpoint names its request and response bodies) and validates."""

import io

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_the_openapi_schema_generates_cleanly_and_validates():
    out = io.StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=out)
    schema = out.getvalue()
    for path in (
        "/api/v1/accounts/{slug}/members/",
        "/api/v1/accounts/{slug}/groups/",
        "/api/v1/accounts/{slug}/audit/",
    ):
        assert path in schema


def test_the_schema_is_served(client):
    response = client.get("/api/schema/")
    assert response.status_code == 200
