"""The demo loader's catalog and entitlements: made through the services, and a second run
changes nothing (no new rows, no new document versions, no new audit rows)."""

import io

from django.core.management import call_command

from accounts.models import AuditEvent
from conftest import make_region
from products.models import Entitlement, Product
from regions.models import ProvisioningRecord


def _state():
    records = ProvisioningRecord.objects.filter(kind="entitlements").order_by("tenant", "region__code")
    return (
        list(Product.objects.values_list("code", flat=True).order_by("code")),
        list(Entitlement.objects.values_list("account__slug", "product__code", "region__code", "status")
             .order_by("account__slug", "product__code", "region__code")),
        list(records.values_list("tenant", "region__code", "desired_version", "desired")),
        AuditEvent.objects.filter(action="entitlement.set").count(),
    )  # fmt: skip


def test_it_loads_the_catalog_and_entitlements_once(db):
    call_command("load_demo", stdout=io.StringIO())
    first = _state()
    call_command("load_demo", stdout=io.StringIO())
    assert _state() == first

    codes, entitlements, documents, audited = first
    assert codes == ["archiver", "backup", "insights", "posture"]
    assert Product.objects.get(code="insights").coming_soon
    assert sorted(Product.objects.get(code="posture").regions.values_list("code", flat=True)) == ["eu", "us"]
    assert entitlements == [
        ("acme", "backup", "au", "active"),
        ("acme", "backup", "eu", "active"),
        ("acme", "backup", "us", "active"),
        ("acme", "posture", "eu", "trial"),
        ("globex", "backup", "eu", "active"),
    ]
    assert audited == 5
    by_place = {(tenant, region): (version, desired) for tenant, region, version, desired in documents}
    assert set(by_place) == {("acme", "au"), ("acme", "eu"), ("acme", "us"), ("globex", "eu")}
    version, acme_eu = by_place[("acme", "eu")]
    assert [p["code"] for p in acme_eu["products"]] == ["backup", "posture"]
    assert acme_eu["products"][1]["status"] == "trial"
    assert acme_eu["products"][1]["ends_at"] is not None
    assert by_place[("globex", "eu")][1] == {
        "tenant": "globex", "products": [{"code": "backup", "status": "active", "ends_at": None}]
    }  # fmt: skip


def test_it_uses_regions_that_already_exist(db):
    # given regions made before the demo data (an operator's, with other URLs)
    existing = {code: make_region(code, 7000 + n, 7100 + n) for n, code in enumerate(["us", "eu", "au"])}
    call_command("load_demo", stdout=io.StringIO())
    first = _state()
    call_command("load_demo", stdout=io.StringIO())
    assert _state() == first
    assert set(Entitlement.objects.values_list("region_id", flat=True)) == {r.pk for r in existing.values()}
