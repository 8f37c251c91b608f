"""Test support shared by the product apps' tests (not collected: no `test_` prefix): people on
the people listener, entitlements documents as Atrium pushes them, through the kit's services."""

import uuid

import pytest
from django.conf import settings

from atrium_kit.entitlements import document_parse
from atrium_kit.services import tenant_entitlements_put, user_upsert_local

PEOPLE_HOST = settings.REGION_PEOPLE_URL.split("://", 1)[1]
_versions: dict[str, int] = {}


def entitle(tenant: str, *codes: str, status: str = "active", ends_at: str | None = None) -> None:
    """Store a newer entitlements document for `tenant` granting exactly `codes`."""
    _versions[tenant] = _versions.get(tenant, 0) + 1
    body = {
        "tenant": tenant,
        "version": _versions[tenant],
        "products": [{"code": c, "status": status, "ends_at": ends_at} for c in codes],
    }
    tenant_entitlements_put(tenant_slug=tenant, update=document_parse(body, tenant_slug=tenant))


def person(tenant: str, email: str, external_id: str | None = None):
    return user_upsert_local(tenant_slug=tenant, external_id=external_id or str(uuid.uuid4()), email=email)


@pytest.fixture
def people_client(client):
    client.defaults["HTTP_HOST"] = PEOPLE_HOST
    return client


@pytest.fixture(autouse=True)
def _fresh_versions():
    # Each test's database starts empty: so do the document versions.
    _versions.clear()
