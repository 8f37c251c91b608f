"""Hostile review of issue 11 (rauth): a region session opened without MFA must not outlive its
tenant's switch to an MFA-required policy (the check at the callback alone lets it stay)."""

from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from atrium_kit.auth import LOA_MFA
from atrium_kit.models import Tenant
from atrium_kit.policy import _cache_key, tenant_policy_put
from atrium_kit.services import user_upsert_local
from atrium_kit.tests import test_auth_step_up as step_up
from atrium_kit.tests.test_auth_step_up import callback, policy, start_login

pytestmark = pytest.mark.django_db

# The step-up tests' fixtures: a fake Atrium token endpoint + JWKS, the people host, a sub.
op, people, sub = step_up.op, step_up.people, step_up.sub


def _signed_in(people, op, sub, amr) -> None:
    user_upsert_local(tenant_slug="acme", external_id=sub, email="a@acme.test")
    op.sub, op.amr = sub, amr
    assert callback(people, start_login(people, op))["Location"] == "/"
    assert people.get("/").status_code == 200


def test_a_session_without_mfa_ends_once_its_tenant_requires_mfa_and_the_new_sign_in_asks_for_it(
    people, op, sub
):
    _signed_in(people, op, sub, ["pwd"])
    policy("acme", mfa_required=True, version=2)

    response = people.get("/")
    assert response.status_code == 302 and urlparse(response["Location"]).path == "/oidc/authenticate/"
    assert "_auth_user_id" not in people.session
    # the sign-in it leads to asks Atrium for MFA at once
    sent = people.get(response["Location"])
    assert sent["Location"].startswith(settings.OIDC_OP_AUTHORIZATION_ENDPOINT + "?")
    query = {k: v[0] for k, v in parse_qs(urlparse(sent["Location"]).query).items()}
    assert query["acr_values"] == LOA_MFA
    op.nonce, op.amr = query["nonce"], ["pwd", "otp", "mfa"]
    assert callback(people, query)["Location"] == "/"
    assert people.get("/").status_code == 200


def test_a_session_with_mfa_stays_when_its_tenant_requires_mfa(people, op, sub):
    _signed_in(people, op, sub, ["pwd", "otp", "mfa"])
    policy("acme", mfa_required=True, version=2)
    assert people.get("/").status_code == 200


def test_a_session_without_mfa_stays_during_the_grace(people, op, sub):
    _signed_in(people, op, sub, ["pwd"])
    document = {
        "tenant": "acme", "version": 2, "mfa_required": True, "session_lifetime_seconds": None,
        "idle_timeout_seconds": None, "sso_only": False,
        "mfa_required_from": (timezone.now() + timedelta(days=2)).isoformat(),
    }  # fmt: skip
    tenant_policy_put(tenant_slug="acme", document=document)
    assert people.get("/").status_code == 200


def test_a_stale_cached_policy_that_required_mfa_does_not_end_the_session(people, op, sub):
    # the machine listener (another process) stored a relaxed policy; this process still holds
    # the copy that required MFA for up to POLICY_CACHE_SECONDS
    _signed_in(people, op, sub, ["pwd"])
    policy("acme", mfa_required=False, version=3)
    tenant = Tenant.objects.get(slug="acme")
    stale = {"tenant": "acme", "version": 2, "mfa_required": True, "session_lifetime_seconds": None,
             "idle_timeout_seconds": None, "sso_only": False}  # fmt: skip
    cache.set(_cache_key(tenant), {"document": stale}, 15)
    assert people.get("/").status_code == 200
