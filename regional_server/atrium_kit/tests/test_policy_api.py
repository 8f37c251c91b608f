"""`PUT|GET /tenant/v1/<tenant>/policy` on the machine port, through the real machine middleware
(tokens signed by a stand-in Atrium JWKS on loopback): scope `tenant` required, an older version
never replaces a newer one, bad documents are 400 JSON, each tenant holds its own policy."""

import json
from datetime import UTC, timedelta

import pytest
import time_machine
from django.test import Client, override_settings
from django.utils import timezone

from atrium_kit.models import Tenant, TenantPolicy
from atrium_kit.policy import tenant_policy_document
from atrium_kit.tests.test_entitlements_api import MACHINE_STACK
from atrium_kit.tests.test_machine_auth import KEY_1, FakeAtriumJwks, jwks_settings, machine_token, public_jwk

pytestmark = pytest.mark.django_db


def policy(tenant: str = "acme", version: int = 1, **changes) -> dict:
    body = {
        "tenant": tenant,
        "version": version,
        "mfa_required": True,
        "session_lifetime_seconds": 3600,
        "idle_timeout_seconds": None,
        "sso_only": False,
    }
    return {**body, **changes}


@pytest.fixture
def machine():
    atrium = FakeAtriumJwks()
    atrium.keys = [public_jwk(KEY_1, "k1")]
    with jwks_settings(atrium), override_settings(**MACHINE_STACK):
        yield Client()
    atrium.stop()


def put(http: Client, body, *, tenant: str = "acme", scope: str = "tenant"):
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return http.put(
        f"/tenant/v1/{tenant}/policy",
        data=data,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {machine_token(scope=scope)}",
    )


def get(http: Client, *, tenant: str = "acme", scope: str = "tenant"):
    return http.get(f"/tenant/v1/{tenant}/policy", HTTP_AUTHORIZATION=f"Bearer {machine_token(scope=scope)}")


def test_a_policy_creates_the_tenant_and_answers_its_version(machine):
    response = put(machine, policy(version=3))
    assert response.status_code == 200, response.content
    assert response.json() == {"version": 3}
    assert Tenant.objects.filter(slug="acme").exists()
    assert tenant_policy_document(tenant="acme") == {**policy(version=3), "mfa_required_from": None}


def test_a_newer_version_replaces_the_policy(machine):
    put(machine, policy(version=1))
    response = put(machine, policy(version=2, mfa_required=False))
    assert response.json() == {"version": 2}
    assert TenantPolicy.objects.get(tenant__slug="acme").document["mfa_required"] is False


def test_an_older_version_never_replaces_a_newer_one(machine):
    put(machine, policy(version=5, idle_timeout_seconds=600))
    response = put(machine, policy(version=4, idle_timeout_seconds=None))
    assert response.status_code == 200
    assert response.json() == {"version": 5}
    held = TenantPolicy.objects.get(tenant__slug="acme")
    assert held.version == 5 and held.document["idle_timeout_seconds"] == 600


def test_the_machine_get_shows_the_version_the_region_enforces(machine):
    assert get(machine).status_code == 404
    assert get(machine).json()["detail"]
    put(machine, policy(version=7))
    response = get(machine)
    assert response.status_code == 200
    assert response.json()["version"] == 7 and response.json()["tenant"] == "acme"


def test_each_tenant_holds_its_own_policy(machine):
    put(machine, policy(tenant="acme", version=2))
    put(machine, policy(tenant="globex", version=1, mfa_required=False), tenant="globex")
    assert get(machine, tenant="acme").json()["mfa_required"] is True
    assert get(machine, tenant="globex").json()["mfa_required"] is False


@pytest.mark.parametrize(
    "body, detail",
    [
        ("not json", "not JSON"),
        ([], "JSON object"),
        (policy(tenant="globex"), "`tenant`"),
        (policy(version=0), "`version`"),
        (policy(version=True), "`version`"),
        (policy(version="2"), "`version`"),
        (policy(mfa_required="yes"), "`mfa_required`"),
        (policy(sso_only=None), "`sso_only`"),
        (policy(session_lifetime_seconds=5), "`session_lifetime_seconds`"),
        (policy(idle_timeout_seconds="600"), "`idle_timeout_seconds`"),
        (policy(idle_timeout_seconds=10**12), "`idle_timeout_seconds`"),
        (policy(mfa_required_from="tomorrow"), "`mfa_required_from`"),
        (policy(mfa_required_from="2026-12-01T10:00:00"), "`mfa_required_from`"),
        (policy(mfa_required_from=5), "`mfa_required_from`"),
    ],
)
def test_a_bad_document_is_a_400_with_a_json_detail_and_changes_nothing(machine, body, detail):
    put(machine, policy(version=1))
    response = put(machine, body)
    assert response.status_code == 400
    assert detail in response.json()["detail"]
    assert TenantPolicy.objects.get(tenant__slug="acme").version == 1


def test_a_scim_only_token_is_refused(machine):
    response = put(machine, policy(), scope="scim")
    assert response.status_code in (401, 403)
    assert not TenantPolicy.objects.exists()


def test_other_methods_are_405_json(machine):
    response = machine.post(
        "/tenant/v1/acme/policy", data="{}", content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {machine_token(scope='tenant')}",
    )  # fmt: skip
    assert response.status_code == 405 and response.json()["detail"]


def test_mfa_is_required_here_only_once_the_grace_atrium_sent_is_over(machine):
    start = timezone.now()
    grace_end = start + timedelta(days=2)
    put(machine, policy(version=1, mfa_required=True, mfa_required_from=grace_end.isoformat()))
    with time_machine.travel(start, tick=False) as traveller:
        assert tenant_policy_document(tenant="acme")["mfa_required"] is False
        traveller.move_to(grace_end + timedelta(seconds=1))
        assert tenant_policy_document(tenant="acme")["mfa_required"] is True
    # the machine GET shows the document as Atrium sent it
    assert get(machine).json()["mfa_required_from"] == grace_end.astimezone(UTC).isoformat()
