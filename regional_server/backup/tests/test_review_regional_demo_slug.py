"""Hostile review: `backup_load_demo --tenant` takes only a slug Atrium can push (lowercase
letters, digits, inner hyphens): a row for "Acme" or "acme_eu" would never be adopted by SCIM or
the entitlements receiver, and its backups would sit in a tenant nobody can reach."""

import pytest
from django.core.management import CommandError, call_command

from atrium_kit.models import Tenant
from backup.models import ProtectedSource

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("slug", ["Acme", "acme_eu", "-acme", "acme-", "acme\n", "a" * 41, ""])
def test_a_slug_atrium_cannot_push_is_refused_and_creates_nothing(slug):
    with pytest.raises(CommandError):
        call_command("backup_load_demo", f"--tenant={slug}")
    assert not Tenant.objects.exists() and not ProtectedSource.objects.exists()


def test_an_account_slug_seeds_its_tenant():
    call_command("backup_load_demo", "--tenant=acme-eu-2")
    assert ProtectedSource.objects.filter(tenant__slug="acme-eu-2").count() == 6
