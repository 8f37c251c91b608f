"""The trials sweep (time travel, never sleeping): expiry flips the status and records a new
document version in each region; reminders 7 days and 1 day before the end, each once, to
owners and admins; staff extend a trial (audited), which makes its reminders due again."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError

from accounts.models import AuditEvent, Membership
from accounts.services import account_region_add, membership_add
from conftest import make_user
from products.models import Entitlement
from products.tasks import sweep_trials
from products.trials import trial_extend, trial_start, trials_sweep
from regions.models import ProvisioningRecord

START = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
END = START + timedelta(days=30)  # backup: a 30-day trial


def _record(account, region):
    return ProvisioningRecord.objects.get(
        kind="entitlements", tenant=account.slug, object_key="entitlements", region=region
    )


@pytest.fixture
def trial(acme, owner, bob_m, backup, regions):
    """Acme's backup trial in US and EU, started at START; Dora is an admin, Bob a member."""
    account_region_add(account=acme, region=regions["us"])
    membership_add(account=acme, user=make_user("dora@acme.test"), role=Membership.Role.ADMIN)
    membership_add(account=acme, user=make_user("bill@acme.test"), role=Membership.Role.BILLING)
    with time_machine.travel(START, tick=False):
        trial_start(account=acme, product=backup, regions=[regions["us"], regions["eu"]], actor=owner)
    mail.outbox.clear()
    return Entitlement.objects.filter(account=acme, product=backup).order_by("region__code")


@pytest.fixture
def staff(db):
    user = make_user("ops@atrium.test")
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    return user


def test_at_the_end_the_trial_expires_and_each_region_gets_a_new_document_version(acme, trial, regions):
    # given
    versions = {code: _record(acme, regions[code]).desired_version for code in ("us", "eu")}

    # when
    result = trials_sweep(now=END + timedelta(minutes=1))

    # then
    assert result["expired"] == 2
    assert {e.status for e in trial} == {"expired"}
    for code in ("us", "eu"):
        record = _record(acme, regions[code])
        assert record.desired_version == versions[code] + 1
        assert record.desired["products"] == [
            {"code": "backup", "status": "expired", "ends_at": END.isoformat()}
        ]


def test_before_the_end_nothing_expires(trial):
    assert trials_sweep(now=END - timedelta(seconds=1))["expired"] == 0
    assert {e.status for e in trial} == {"trial"}


def test_the_sweep_is_idempotent(acme, trial, regions):
    trials_sweep(now=END)
    version = _record(acme, regions["eu"]).desired_version
    assert trials_sweep(now=END + timedelta(hours=1)) == {"expired": 0, "reminded": 0}
    assert _record(acme, regions["eu"]).desired_version == version


def test_the_beat_task_sweeps_at_the_current_time(trial):
    with time_machine.travel(END + timedelta(seconds=1), tick=False):
        assert sweep_trials() == {"expired": 2, "reminded": 0}
    assert {e.status for e in trial} == {"expired"}


def test_reminders_go_7_days_and_1_day_before_the_end_each_once_to_owners_and_admins(trial):
    # 8 days before: nothing yet
    assert trials_sweep(now=END - timedelta(days=8))["reminded"] == 0
    assert mail.outbox == []

    # 7 days before, swept twice: one mail
    trials_sweep(now=END - timedelta(days=7))
    trials_sweep(now=END - timedelta(days=6, hours=12))
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert sorted(message.to) == ["alice@acme.test", "dora@acme.test"]  # not Bob, not billing
    assert message.subject == "Acme's Backup & Recovery trial ends in 7 days"
    assert "(EU, US)" in message.body
    assert "/products/backup/?account=acme" in message.body

    # 1 day before, swept twice: one more
    trials_sweep(now=END - timedelta(days=1))
    trials_sweep(now=END - timedelta(hours=2))
    assert len(mail.outbox) == 2
    assert mail.outbox[1].subject == "Acme's Backup & Recovery trial ends in 1 day"

    # the end: expired, no more mail
    trials_sweep(now=END)
    assert len(mail.outbox) == 2
    assert {e.reminders_sent == ["1d", "7d"] for e in trial} == {True}


def test_a_sweep_missed_until_the_last_day_sends_only_the_1_day_reminder(trial):
    trials_sweep(now=END - timedelta(hours=20))
    trials_sweep(now=END - timedelta(hours=10))
    assert [m.subject for m in mail.outbox] == ["Acme's Backup & Recovery trial ends in 1 day"]


def test_a_trial_shorter_than_a_week_never_gets_the_7_day_reminder(acme, owner, posture, regions):
    posture.trial_days = 7
    posture.save()
    account_region_add(account=acme, region=regions["us"])
    with time_machine.travel(START, tick=False):
        trial_start(account=acme, product=posture, regions=[regions["us"]], actor=owner)
    mail.outbox.clear()
    trials_sweep(now=START + timedelta(hours=1))
    assert mail.outbox == []
    trials_sweep(now=START + timedelta(days=6, hours=1))
    assert [m.subject for m in mail.outbox] == ["Acme's Security Posture trial ends in 1 day"]


def test_staff_extend_every_region_of_the_trial_audited(acme, trial, staff, regions):
    # given
    version = _record(acme, regions["us"]).desired_version

    # when
    with time_machine.travel(START + timedelta(days=10), tick=False):
        trial_extend(entitlement=trial[0], days=14, actor=staff)

    # then
    new_end = END + timedelta(days=14)
    assert {e.ends_at for e in trial} == {new_end}
    assert _record(acme, regions["us"]).desired_version == version + 1
    event = AuditEvent.objects.get(action="trial.extend")
    assert event.actor == staff
    assert event.before == {"ends_at": END.isoformat()}
    assert event.after == {"ends_at": new_end.isoformat(), "days": 14}
    assert trials_sweep(now=END + timedelta(days=1))["expired"] == 0


def test_extending_makes_the_reminders_due_again(trial, staff):
    trials_sweep(now=END - timedelta(days=7))
    with time_machine.travel(END - timedelta(days=6), tick=False):
        trial_extend(entitlement=trial[0], days=30, actor=staff)
    trials_sweep(now=END + timedelta(days=23))  # 7 days before the new end
    assert len(mail.outbox) == 2


def test_an_expired_trial_is_extended_from_now_only_while_still_a_trial(trial, staff):
    trials_sweep(now=END)
    with pytest.raises(ValidationError):
        trial_extend(entitlement=trial[0], days=7, actor=staff)


def test_only_staff_extend_trials_by_a_sane_number_of_days(trial, alice, staff):
    with pytest.raises(PermissionDenied):
        trial_extend(entitlement=trial[0], days=7, actor=alice)
    for days in (0, -1, 366, "7"):
        with pytest.raises(ValidationError):
            trial_extend(entitlement=trial[0], days=days, actor=staff)
    assert not AuditEvent.objects.filter(action="trial.extend").exists()


def test_staff_extend_a_trial_from_the_admin_once_per_trial(client, trial, regions):
    from django.urls import reverse

    from accounts.models import User

    admin_user = User.objects.create_superuser(email="admin@atrium.test", password="x-pass-2026")
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:products_entitlement_changelist"),
        {"action": "extend_trial_7", "_selected_action": [e.pk for e in trial]},
        follow=True,
    )
    assert [str(m) for m in response.context["messages"]] == ["Extended 1 trial(s) by 7 days (audited)."]
    assert {e.ends_at for e in trial.all()} == {END + timedelta(days=7)}  # once, not twice
    assert AuditEvent.objects.filter(action="trial.extend", actor=admin_user).count() == 1


def test_a_closed_accounts_trial_ends_at_the_close_and_gets_no_reminder(acme, trial):
    from accounts.services import account_close

    account_close(account=acme)  # it leaves every region: what it had there is cancelled
    assert {e.status for e in trial.all()} == {"cancelled"}
    trials_sweep(now=END - timedelta(days=1))
    assert mail.outbox == []
    assert trials_sweep(now=END)["expired"] == 0


def test_one_accounts_failing_reminder_does_not_hold_back_the_others(
    trial, globex, backup, regions, monkeypatch
):
    # given: Globex's trial ends at the same time as Acme's, and mail to Acme fails (a refused
    # address, a broken template — whatever it is, it is Acme's alone)
    from products import emails

    globex_owner = membership_add(
        account=globex, user=make_user("gina@globex.test"), role=Membership.Role.OWNER
    )
    with time_machine.travel(START, tick=False):
        trial_start(account=globex, product=backup, regions=[regions["eu"]], actor=globex_owner)
    mail.outbox.clear()
    real_send = emails.send_trial_reminder

    def send_failing_for_acme(*, account, **kwargs):
        if account.slug == "acme":
            raise RuntimeError("mail to Acme refused")
        real_send(account=account, **kwargs)

    monkeypatch.setattr(emails, "send_trial_reminder", send_failing_for_acme)

    # when
    result = trials_sweep(now=END - timedelta(days=7))

    # then: Globex was reminded; Acme's reminder is not marked sent, so the next sweep retries it
    assert result["reminded"] == 1
    assert [sorted(m.to) for m in mail.outbox] == [["carol@globex.test", "gina@globex.test"]]
    assert {e.reminders_sent == [] for e in trial} == {True}
    monkeypatch.setattr(emails, "send_trial_reminder", real_send)
    assert trials_sweep(now=END - timedelta(days=6))["reminded"] == 1
    assert sorted(mail.outbox[-1].to) == ["alice@acme.test", "dora@acme.test"]
