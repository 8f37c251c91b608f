"""The people listener's cached tenant policy belongs to that tenant row: a tenant deleted and
made again under the same id (a flushed database reuses ids) never reads the one before's."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from atrium_kit.models import Tenant
from atrium_kit.policy import _enforced_document, policy_parse, tenant_policy_put

pytestmark = pytest.mark.django_db


def test_a_tenant_made_again_under_the_same_id_does_not_read_the_old_cached_policy():
    cache.clear()
    body = {"tenant": "acme", "version": 3, "mfa_required": True, "sso_only": False,
            "session_lifetime_seconds": None, "idle_timeout_seconds": None}  # fmt: skip
    tenant_policy_put(tenant_slug="acme", document=policy_parse(body, tenant_slug="acme"))
    old = Tenant.objects.get(slug="acme")
    assert _enforced_document(old)["mfa_required"] is True  # now cached
    pk = old.pk
    old.delete()
    again = Tenant.objects.create(pk=pk, slug="acme", created_at=timezone.now() + timedelta(seconds=1))
    assert _enforced_document(again) is None
