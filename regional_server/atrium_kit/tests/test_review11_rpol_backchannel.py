"""Hostile review (issue 11, reviewer rpol): the back-channel logout endpoint is a machine API,
so a body Django cannot parse (too large, too many fields, a multipart without a boundary) is
a 4xx with the spec's JSON error (§2.8), never Django's HTML error page, and ends nothing."""

import pytest

from atrium_kit.tests.test_backchannel_logout import alive, machine, people  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db

FORM = "application/x-www-form-urlencoded"
BODIES = {
    "too_large": (b"logout_token=" + b"a" * 3_000_000, FORM, 413),
    "too_many_fields": (b"&".join(b"f%d=1" % i for i in range(2000)), FORM, 400),
    "multipart_without_boundary": (b"logout_token=x", "multipart/form-data", 400),
}


@pytest.mark.parametrize("name", sorted(BODIES))
def test_an_unparseable_body_is_a_json_error_and_ends_nothing(machine, people, name):  # noqa: F811
    body, content_type, status = BODIES[name]
    response = machine.generic("POST", "/oidc/backchannel-logout", body, content_type=content_type)
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"] == "invalid_request"
    assert all(alive(key) for key in people.values())
