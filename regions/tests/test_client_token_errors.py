"""How the worker's token fetch maps Atrium's own token-endpoint answers (a real live server):
Atrium's rate limit (429 + Retry-After) is a retryable error that backs off, and a region
added after the provisioner was registered is reachable at once (no invalid_target)."""

import pytest
from django.conf import settings as django_settings

from accounts.services import account_region_add
from conftest import make_region
from regions import client
from regions.ledger import ledger_push
from regions.models import ProvisioningRecord
from regions.services import provisioner_client_register

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def issuer(live_server, settings, tmp_path):
    settings.ATRIUM_ISSUER = live_server.url
    settings.ATRIUM_SECRETS_DIR = tmp_path
    settings.ATRIUM_M2M_CLIENT_SECRET = ""
    client.m2m_tokens_forget()
    yield live_server
    client.m2m_tokens_forget()


def test_atriums_own_rate_limit_is_a_retryable_error_honouring_retry_after(issuer, settings, tmp_path, acme):
    eu = make_region("eu", 8311, 9311)
    provisioner_client_register(client_id=django_settings.ATRIUM_M2M_CLIENT_ID, secrets_dir=tmp_path)
    settings.ATRIUM_RATE_LIMITS_ENABLED = True
    settings.ATRIUM_TOKEN_RATE_PER_IP = 0  # the worker's address is over its budget
    account_region_add(account=acme, region=eu)
    row = ProvisioningRecord.objects.filter(region=eu).first()
    # when the worker pushes and Atrium's token endpoint answers 429 Retry-After
    state = ledger_push(record_id=row.pk)
    row.refresh_from_db()
    # then the row backs off (retrying), it does not fail for good on a throttle
    assert state == "retrying", (state, row.last_error)


def test_a_region_added_after_the_provisioner_was_registered_does_not_fail_rows(
    issuer, settings, tmp_path, acme
):
    provisioner_client_register(client_id=django_settings.ATRIUM_M2M_CLIENT_ID, secrets_dir=tmp_path)
    # given an operator adds a region in Django admin (RegionAdmin is editable) afterwards
    au = make_region("au", 8312, 9312)
    account_region_add(account=acme, region=au)
    row = ProvisioningRecord.objects.filter(region=au).first()
    state = ledger_push(record_id=row.pk)
    row.refresh_from_db()
    # then the token is issued (the region is unreachable here, so the push retries later)
    assert state == "retrying", row.last_error
    assert "invalid_target" not in row.last_error and "Token request refused" not in row.last_error
