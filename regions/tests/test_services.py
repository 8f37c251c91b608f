import json
import stat

import pytest
from allauth.idp.oidc.models import Client
from django.contrib.auth.hashers import check_password

from conftest import make_region
from regions.services import region_oidc_client_register

pytestmark = pytest.mark.django_db


@pytest.fixture
def region_eu(db):
    return make_region("eu")


def test_it_registers_a_login_client_and_writes_its_secret(region_eu, tmp_path):
    result = region_oidc_client_register(region=region_eu, secrets_dir=tmp_path)
    client = Client.objects.get(id="region-eu")
    payload = json.loads(result.secret_file.read_text())
    assert payload["client_id"] == "region-eu"
    assert check_password(payload["client_secret"], client.secret)
    assert client.get_redirect_uris() == ["http://127.0.0.1:8102/oidc/callback/"]
    assert client.skip_consent is True
    assert set(client.get_scopes()) == {"openid", "email", "profile"}
    assert stat.S_IMODE(result.secret_file.stat().st_mode) == 0o600


def test_it_is_idempotent_and_keeps_a_secret_that_still_has_its_file(region_eu, tmp_path):
    first = region_oidc_client_register(region=region_eu, secrets_dir=tmp_path)
    secret = json.loads(first.secret_file.read_text())["client_secret"]
    second = region_oidc_client_register(region=region_eu, secrets_dir=tmp_path)
    assert second.secret_rotated is False
    assert Client.objects.filter(id="region-eu").count() == 1
    assert check_password(secret, Client.objects.get(id="region-eu").secret)


def test_it_mints_a_new_secret_when_the_file_is_gone(region_eu, tmp_path):
    first = region_oidc_client_register(region=region_eu, secrets_dir=tmp_path)
    old_secret = json.loads(first.secret_file.read_text())["client_secret"]
    first.secret_file.unlink()
    second = region_oidc_client_register(region=region_eu, secrets_dir=tmp_path)
    new_secret = json.loads(second.secret_file.read_text())["client_secret"]
    assert second.secret_rotated is True
    assert not check_password(old_secret, Client.objects.get(id="region-eu").secret)
    assert check_password(new_secret, Client.objects.get(id="region-eu").secret)


def test_a_changed_people_url_updates_the_redirect_uri(region_eu, tmp_path):
    region_oidc_client_register(region=region_eu, secrets_dir=tmp_path)
    region_eu.people_url = "https://eu.example.test"
    region_eu.save()
    region_oidc_client_register(region=region_eu, secrets_dir=tmp_path)
    assert Client.objects.get(id="region-eu").get_redirect_uris() == [
        "https://eu.example.test/oidc/callback/"
    ]
