"""The provisioning ledger's state machine (delivery itself is covered end to end in tests/e2e)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from regions import client as region_client
from regions.ledger import backoff_seconds, ledger_desire, ledger_push, ledger_retry, ledger_sweep
from regions.models import ProvisioningRecord, Region

pytestmark = pytest.mark.django_db
State = ProvisioningRecord.State


@pytest.fixture
def unreachable_atrium(settings):
    # Nothing listens on port 9: every push fails at the token request, as when Atrium's
    # token endpoint or the region is down.
    settings.ATRIUM_ISSUER = "http://127.0.0.1:9"
    settings.ATRIUM_M2M_CLIENT_SECRET = "irrelevant"
    settings.ATRIUM_REGION_TIMEOUT = 1
    region_client.m2m_tokens_forget()
    return settings


@pytest.fixture
def eu(db):
    return Region.objects.create(
        code="eu", name="EU", people_url="http://127.0.0.1:8102", machine_url="https://127.0.0.1:9102"
    )


@pytest.fixture
def us(db):
    return Region.objects.create(
        code="us", name="US", people_url="http://127.0.0.1:8101", machine_url="https://127.0.0.1:9101"
    )


def desire(regions, desired={"userName": "a@acme.test", "externalId": "x"}, key="x"):  # noqa: B006
    return ledger_desire(kind="user", tenant="acme", object_key=key, regions=regions, desired=desired)


def test_desire_writes_one_pending_row_per_region_and_bumps_versions(eu, us):
    first = desire([eu, us])
    assert [(r.region.code, r.desired_version, r.state) for r in first] == [
        ("eu", 1, "pending"),
        ("us", 1, "pending"),
    ]
    desire([eu], desired={"userName": "a@acme.test", "externalId": "x", "active": False})
    row = ProvisioningRecord.objects.get(region=eu)
    assert row.desired_version == 2 and row.desired["active"] is False
    assert ProvisioningRecord.objects.get(region=us).desired_version == 1


def test_deleting_what_was_never_sent_records_nothing(eu):
    assert desire([eu], desired=None, key="never-sent") == []
    assert not ProvisioningRecord.objects.exists()


def test_a_failed_push_becomes_retrying_with_the_error_and_a_later_attempt(eu, unreachable_atrium):
    (row,) = desire([eu])
    assert ledger_push(record_id=row.pk) == State.RETRYING
    row.refresh_from_db()
    assert row.attempts == 1
    assert "unreachable" in row.last_error
    assert row.next_attempt_at > timezone.now()
    assert row.lease_until is None
    assert row.sent_version == 1 and row.acked_version == 0


def test_after_the_last_attempt_the_row_fails_and_one_click_retry_revives_it(eu, unreachable_atrium):
    unreachable_atrium.ATRIUM_PUSH_MAX_ATTEMPTS = 2
    unreachable_atrium.ATRIUM_PUSH_GIVE_UP_AFTER = 0
    (row,) = desire([eu])
    ledger_push(record_id=row.pk)
    ProvisioningRecord.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
    assert ledger_push(record_id=row.pk) == State.FAILED
    row.refresh_from_db()
    assert row.next_attempt_at is None
    # the sweeper leaves failed rows alone
    assert ledger_sweep() == 0
    ledger_retry(record=row)
    row.refresh_from_db()
    assert (row.state, row.attempts) == (State.PENDING, 0)


def test_a_row_already_leased_is_not_pushed_twice(eu):
    (row,) = desire([eu])
    ProvisioningRecord.objects.filter(pk=row.pk).update(lease_until=timezone.now() + timedelta(minutes=1))
    assert ledger_push(record_id=row.pk) == "skipped"


def test_a_synced_row_is_not_pushed_again(eu):
    (row,) = desire([eu])
    ProvisioningRecord.objects.filter(pk=row.pk).update(acked_version=1, state=State.SYNCED)
    assert ledger_push(record_id=row.pk) == "skipped"


def test_the_sweeper_picks_only_due_unleased_rows(eu, us):
    due, leased = desire([eu, us])
    desire([eu, us], key="later")
    now = timezone.now()
    ProvisioningRecord.objects.filter(pk=due.pk).update(next_attempt_at=now - timedelta(seconds=1))
    ProvisioningRecord.objects.filter(pk=leased.pk).update(
        next_attempt_at=now - timedelta(seconds=1), lease_until=now + timedelta(minutes=1)
    )
    assert ledger_sweep() == 1


def test_backoff_grows_exponentially_with_jitter_and_is_capped(settings):
    settings.ATRIUM_PUSH_BACKOFF_BASE = 5
    settings.ATRIUM_PUSH_BACKOFF_CAP = 900
    assert all(2.5 <= backoff_seconds(1) <= 5 for _ in range(50))
    assert all(20 <= backoff_seconds(4) <= 40 for _ in range(50))
    assert all(450 <= backoff_seconds(30) <= 900 for _ in range(50))
    assert len({backoff_seconds(3) for _ in range(20)}) > 1


def test_an_enqueue_failure_leaves_the_row_due_for_the_sweeper(
    eu, dead_broker, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        (row,) = desire([eu])  # the broker refuses: no exception escapes
    row.refresh_from_db()
    assert row.state == State.PENDING and row.next_attempt_at is not None
