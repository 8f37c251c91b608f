"""Hostile review (issue 11, reviewer rpol): the pushed session lifetime counts from the person's
sign-in here, and switching tenant is not a sign-in. A person in two tenants could otherwise
switch back and forth to keep a region session alive forever without ever signing in again
(the switch logs in another tenant's user, which flushes the session and records a new
LoginSession, from which the lifetime used to be counted afresh)."""

import uuid
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from atrium_kit.policy import policy_parse, tenant_policy_put
from atrium_kit.services import login_session_record, user_upsert_local

pytestmark = pytest.mark.django_db


def push(tenant: str, *, lifetime: int) -> None:
    body = {
        "tenant": tenant, "version": 1, "mfa_required": False, "sso_only": False,
        "session_lifetime_seconds": lifetime, "idle_timeout_seconds": None,
    }  # fmt: skip
    tenant_policy_put(tenant_slug=tenant, document=policy_parse(body, tenant_slug=tenant))


def test_switching_tenant_does_not_restart_the_session_lifetime(people):
    sub = str(uuid.uuid4())
    acme = user_upsert_local(tenant_slug="acme", external_id=sub, email="alice@acme.test")
    user_upsert_local(tenant_slug="globex", external_id=sub, email="alice@acme.test")
    push("acme", lifetime=3600)
    push("globex", lifetime=3600)
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        people.force_login(acme)
        login_session_record(session_key=people.session.session_key, user=acme, sid="sid-1")
        assert people.get("/").status_code == 200
        traveller.shift(timedelta(minutes=50))
        assert people.post("/tenants/globex/switch/").status_code == 302
        assert b'data-testid="region-tenant">globex<' in people.get("/").content
        traveller.shift(timedelta(minutes=11))  # 61 minutes after the sign-in, 11 after the switch
        response = people.get("/")
    assert response.status_code == 302 and "/oidc/authenticate/" in response.url
