"""The people listener enforces the tenant's pushed session lifetime and idle timeout (from
sign-in here), sends the person to sign in again, and shows the policy version it enforces."""

import uuid
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from atrium_kit.models import LoginSession
from atrium_kit.policy import policy_parse, tenant_policy_put
from atrium_kit.services import login_session_record, user_upsert_local

pytestmark = pytest.mark.django_db


def push(tenant: str, version: int, *, lifetime=None, idle=None) -> None:
    body = {
        "tenant": tenant, "version": version, "mfa_required": False, "sso_only": False,
        "session_lifetime_seconds": lifetime, "idle_timeout_seconds": idle,
    }  # fmt: skip
    tenant_policy_put(tenant_slug=tenant, document=policy_parse(body, tenant_slug=tenant))


@pytest.fixture
def alice():
    return user_upsert_local(tenant_slug="acme", external_id=str(uuid.uuid4()), email="alice@acme.test")


@pytest.fixture
def carol():
    return user_upsert_local(tenant_slug="globex", external_id=str(uuid.uuid4()), email="carol@globex.test")


def sign_in(people, user) -> None:
    people.force_login(user)
    login_session_record(session_key=people.session.session_key, user=user, sid="")


def test_the_home_page_names_the_policy_version_the_region_enforces(people, alice):
    sign_in(people, alice)
    assert b'data-testid="tenant-policy-version">defaults<' in people.get("/").content
    push("acme", 4)
    assert b'data-testid="tenant-policy-version">v4<' in people.get("/").content


def test_a_session_past_the_lifetime_is_ended_and_sent_to_sign_in(people, alice):
    push("acme", 1, lifetime=3600)
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        sign_in(people, alice)
        assert people.get("/").status_code == 200
        traveller.shift(timedelta(minutes=59))
        assert people.get("/").status_code == 200
        traveller.shift(timedelta(minutes=2))
        response = people.get("/")
    assert response.status_code == 302
    assert response.url.startswith("/oidc/authenticate/") and "next=%2F" in response.url
    assert "_auth_user_id" not in people.session
    assert not LoginSession.objects.filter(user=alice).exists()


def test_activity_keeps_a_session_alive_until_the_idle_timeout_passes(people, alice):
    push("acme", 1, idle=600)
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        sign_in(people, alice)
        for _ in range(3):  # 27 minutes in all, never 10 idle
            traveller.shift(timedelta(minutes=9))
            assert people.get("/").status_code == 200
        traveller.shift(timedelta(minutes=11))
        response = people.get("/")
    assert response.status_code == 302 and "/oidc/authenticate/" in response.url


def test_another_tenants_policy_does_not_end_this_tenants_sessions(people, carol):
    push("acme", 1, lifetime=3600, idle=600)
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        sign_in(people, carol)
        traveller.shift(timedelta(hours=3))
        assert people.get("/").status_code == 200


def test_without_a_pushed_policy_sessions_keep_the_sites_rules(people, alice):
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        sign_in(people, alice)
        traveller.shift(timedelta(hours=3))
        assert people.get("/").status_code == 200
