from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from accounts.models import AuditEvent
from products.models import Entitlement
from products.provisioning import entitlements_desire_for_account
from products.services import entitlement_delete, entitlement_set
from regions.models import ProvisioningRecord


def _document(account, region):
    record = ProvisioningRecord.objects.get(
        kind="entitlements", tenant=account.slug, object_key="entitlements", region=region
    )
    return record.desired, record.desired_version


def test_it_records_the_regions_document_with_only_that_regions_products_sorted_by_code(
    acme_everywhere, backup, posture, regions
):
    # given
    ends = datetime(2027, 1, 15, 12, 0, tzinfo=UTC)
    entitlement_set(
        account=acme_everywhere, product=posture, region=regions["eu"], status="trial", ends_at=ends
    )
    entitlement_set(account=acme_everywhere, product=backup, region=regions["eu"], status="active")
    entitlement_set(account=acme_everywhere, product=backup, region=regions["us"], status="active")

    # then
    eu, _ = _document(acme_everywhere, regions["eu"])
    assert eu == {
        "tenant": "acme",
        "products": [
            {"code": "backup", "status": "active", "ends_at": None},
            {"code": "posture", "status": "trial", "ends_at": "2027-01-15T12:00:00+00:00"},
        ],
    }
    us, _ = _document(acme_everywhere, regions["us"])
    assert us == {"tenant": "acme", "products": [{"code": "backup", "status": "active", "ends_at": None}]}
    # AU holds the empty document it got when Acme started using it
    assert _document(acme_everywhere, regions["au"]) == ({"tenant": "acme", "products": []}, 1)


def test_each_change_in_a_region_increments_that_documents_version(acme_everywhere, backup, posture, regions):
    eu = regions["eu"]
    start = _document(acme_everywhere, eu)[1]  # the empty document of the region's addition
    entitlement_set(account=acme_everywhere, product=backup, region=eu, status="trial")
    assert _document(acme_everywhere, eu)[1] == start + 1
    entitlement_set(account=acme_everywhere, product=posture, region=eu, status="trial")
    entitlement_set(account=acme_everywhere, product=backup, region=eu, status="active")
    document, version = _document(acme_everywhere, eu)
    assert version == start + 3
    assert [p["status"] for p in document["products"]] == ["active", "trial"]


def test_repeating_the_same_change_changes_nothing(acme_everywhere, backup, regions):
    start = _document(acme_everywhere, regions["eu"])[1]
    entitlement_set(account=acme_everywhere, product=backup, region=regions["eu"], status="active")
    entitlement_set(account=acme_everywhere, product=backup, region=regions["eu"], status="active")
    assert _document(acme_everywhere, regions["eu"])[1] == start + 1
    assert AuditEvent.objects.filter(action="entitlement.set").count() == 1


def test_a_status_change_keeps_one_row_and_says_what_changed(acme_everywhere, backup, regions, alice):
    ends = datetime(2027, 1, 1, tzinfo=UTC)
    entitlement_set(
        account=acme_everywhere, product=backup, region=regions["eu"], status="trial", ends_at=ends
    )
    entitlement = entitlement_set(
        account=acme_everywhere,
        product=backup,
        region=regions["eu"],
        status="cancelled",
        ends_at=ends,
        actor=alice,
    )
    assert Entitlement.objects.get().status == "cancelled"
    event = AuditEvent.objects.filter(action="entitlement.set").first()
    assert event.account == acme_everywhere
    assert event.actor == alice
    assert event.target_id == str(entitlement.pk)
    assert event.target_label == "Backup & Recovery (EU)"
    assert event.before == {"status": "trial", "ends_at": ends.isoformat()}
    assert event.after["status"] == "cancelled"
    assert event.after["product"] == "backup"
    assert event.after["region"] == "eu"


def test_a_change_without_an_actor_is_audited_as_the_system(acme_everywhere, backup, regions):
    entitlement_set(account=acme_everywhere, product=backup, region=regions["au"], status="active")
    event = AuditEvent.objects.get(action="entitlement.set")
    assert event.actor is None
    assert event.before is None
    assert event.after == {"product": "backup", "region": "au", "status": "active", "ends_at": None}


def test_it_refuses_a_product_not_offered_in_the_region(acme_everywhere, posture, regions):
    with pytest.raises(ValidationError) as exc:
        entitlement_set(account=acme_everywhere, product=posture, region=regions["au"], status="trial")
    assert exc.value.code == "unavailable"
    assert not Entitlement.objects.exists()
    # nothing new was recorded: every document is still the empty one of the region's addition
    assert set(
        ProvisioningRecord.objects.filter(kind="entitlements").values_list("desired_version", flat=True)
    ) == {1}


def test_it_refuses_a_region_the_account_does_not_use(globex_eu, backup, regions):
    with pytest.raises(ValidationError) as exc:
        entitlement_set(account=globex_eu, product=backup, region=regions["us"], status="active")
    assert exc.value.code == "region_not_used"
    assert not Entitlement.objects.exists()


def test_it_refuses_a_coming_soon_product(acme_everywhere, insights, regions):
    with pytest.raises(ValidationError) as exc:
        entitlement_set(account=acme_everywhere, product=insights, region=regions["eu"], status="trial")
    assert exc.value.code == "coming_soon"


def test_it_refuses_an_unknown_status(acme_everywhere, backup, regions):
    with pytest.raises(ValidationError) as exc:
        entitlement_set(account=acme_everywhere, product=backup, region=regions["eu"], status="gold")
    assert exc.value.code == "status"


def test_it_refuses_an_end_before_the_start(acme_everywhere, backup, regions):
    entitlement_set(account=acme_everywhere, product=backup, region=regions["eu"], status="trial")
    with pytest.raises(ValidationError) as exc:
        entitlement_set(
            account=acme_everywhere, product=backup, region=regions["eu"], status="trial",
            ends_at=datetime(2001, 1, 1, tzinfo=UTC),
        )  # fmt: skip
    assert exc.value.code == "ends_before_start"


def test_deleting_an_entitlement_drops_it_from_that_regions_document(
    acme_everywhere, backup, posture, regions
):
    eu = regions["eu"]
    entitlement_set(account=acme_everywhere, product=backup, region=eu, status="active")
    trial = entitlement_set(account=acme_everywhere, product=posture, region=eu, status="trial")
    entitlement_delete(entitlement=trial)
    document, version = _document(acme_everywhere, eu)
    assert document["products"] == [{"code": "backup", "status": "active", "ends_at": None}]
    assert version == 4  # the region's addition, two sets, the deletion
    assert AuditEvent.objects.filter(action="entitlement.delete", target_id=str(trial.pk)).exists()


def test_desiring_for_an_account_gives_every_region_it_uses_its_document(
    acme_everywhere, globex_eu, backup, regions
):
    entitlement_set(account=acme_everywhere, product=backup, region=regions["us"], status="active")
    records = entitlements_desire_for_account(acme_everywhere)
    assert sorted(r.region.code for r in records) == ["au", "eu", "us"]
    assert _document(acme_everywhere, regions["au"]) == ({"tenant": "acme", "products": []}, 2)
    assert _document(acme_everywhere, regions["us"])[1] == 3
    # Globex's documents are untouched by Acme's (version 1, from its region's addition)
    assert set(
        ProvisioningRecord.objects.filter(kind="entitlements", tenant="globex").values_list(
            "desired_version", flat=True
        )
    ) == {1}


def test_an_ending_in_another_time_zone_is_sent_in_utc(acme_everywhere, backup, regions):
    sydney = datetime(2027, 3, 1, 9, 0, tzinfo=UTC) + timedelta(hours=11)
    local = sydney.astimezone(ZoneInfo("Australia/Sydney"))
    entitlement_set(
        account=acme_everywhere, product=backup, region=regions["au"], status="trial", ends_at=local
    )
    document, _ = _document(acme_everywhere, regions["au"])
    assert document["products"][0]["ends_at"] == "2027-03-01T20:00:00+00:00"
