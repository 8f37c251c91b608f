"""Hostile review: an `ends_at` Python can parse but not place in UTC (year 9999 behind UTC,
year 1 ahead of it) used to pass the receiver and then fail every product page of the tenant
with a 500 (OverflowError when the date is shown or compared in the region's time zone). The
receiver refuses such a document whole; the far dates it accepts render."""

import pytest

from atrium_kit.entitlements import DocumentInvalid, document_parse
from backup.tests.support import entitle, person

pytestmark = pytest.mark.django_db
UNPLACEABLE = ["9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00+01:00", "0001-01-01T00:59:59+01:00"]
FAR_BUT_FINE = ["9999-12-31T23:59:59+00:00", "9999-12-31T23:59:59+05:00", "0001-01-01T00:00:00-05:00"]


def body(ends_at: str) -> dict:
    return {
        "tenant": "acme",
        "version": 1,
        "products": [{"code": "backup", "status": "trial", "ends_at": ends_at}],
    }


@pytest.mark.parametrize("ends_at", UNPLACEABLE)
def test_an_end_outside_the_representable_range_is_refused_whole(ends_at):
    with pytest.raises(DocumentInvalid, match="ends_at"):
        document_parse(body(ends_at), tenant_slug="acme")


@pytest.mark.parametrize("status", ["trial", "expired"])
@pytest.mark.parametrize("ends_at", FAR_BUT_FINE)
@pytest.mark.parametrize("path", ["/p/backup/", "/p/posture/", "/p/archiver/", "/p/insights/", "/"])
def test_far_ends_the_receiver_accepts_render_every_page(people, status, ends_at, path):
    entitle("acme", "backup", "posture", "archiver", "insights", status=status, ends_at=ends_at)
    people.force_login(person("acme", "alice@acme.test"))
    assert people.get(path).status_code in (200, 403)
