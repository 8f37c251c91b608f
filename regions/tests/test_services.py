import json
import stat

import pytest
from allauth.idp.oidc.models import Client, Token

from conftest import make_region
from regions.services import (
    oidc_client_secret_rotate,
    provisioner_client_register,
    region_oidc_client_register,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def region_eu(db):
    return make_region("eu")


def test_it_registers_a_login_client_and_writes_its_secret(region_eu, tmp_path):
    result = region_oidc_client_register(region=region_eu, secrets_dir=tmp_path)
    client = Client.objects.get(id="region-eu")
    payload = json.loads(result.secret_file.read_text())
    assert payload["client_id"] == "region-eu"
    assert client.check_secret(payload["client_secret"])
    assert client.secret.startswith("hmac-sha256$")
    assert client.get_redirect_uris() == ["http://127.0.0.1:8102/oidc/callback/"]
    assert client.skip_consent is True
    assert set(client.get_scopes()) == {"openid", "email", "profile", "directory:read"}
    assert stat.S_IMODE(result.secret_file.stat().st_mode) == 0o600


def test_it_is_idempotent_and_keeps_a_secret_that_still_has_its_file(region_eu, tmp_path):
    first = region_oidc_client_register(region=region_eu, secrets_dir=tmp_path)
    secret = json.loads(first.secret_file.read_text())["client_secret"]
    second = region_oidc_client_register(region=region_eu, secrets_dir=tmp_path)
    assert second.secret_rotated is False
    assert Client.objects.filter(id="region-eu").count() == 1
    assert Client.objects.get(id="region-eu").check_secret(secret)


def test_it_mints_a_new_secret_when_the_file_is_gone(region_eu, tmp_path):
    first = region_oidc_client_register(region=region_eu, secrets_dir=tmp_path)
    old_secret = json.loads(first.secret_file.read_text())["client_secret"]
    first.secret_file.unlink()
    second = region_oidc_client_register(region=region_eu, secrets_dir=tmp_path)
    new_secret = json.loads(second.secret_file.read_text())["client_secret"]
    assert second.secret_rotated is True
    assert not Client.objects.get(id="region-eu").check_secret(old_secret)
    assert Client.objects.get(id="region-eu").check_secret(new_secret)


def test_a_changed_people_url_updates_the_redirect_uri(region_eu, tmp_path):
    region_oidc_client_register(region=region_eu, secrets_dir=tmp_path)
    region_eu.people_url = "https://eu.example.test"
    region_eu.save()
    region_oidc_client_register(region=region_eu, secrets_dir=tmp_path)
    assert Client.objects.get(id="region-eu").get_redirect_uris() == [
        "https://eu.example.test/oidc/callback/"
    ]


def test_a_region_login_client_has_no_refresh_grant_and_loses_old_refresh_tokens(region_eu, tmp_path):
    # given a login client registered when region clients still had refresh tokens
    region_oidc_client_register(region=region_eu, secrets_dir=tmp_path)
    client = Client.objects.get(id="region-eu")
    client.set_grant_types([Client.GrantType.AUTHORIZATION_CODE, Client.GrantType.REFRESH_TOKEN])
    client.save()
    Token.objects.create(client=client, type=Token.Type.REFRESH_TOKEN, hash="old-refresh-token")
    # when it is registered again (every `make demo` start does)
    region_oidc_client_register(region=region_eu, secrets_dir=tmp_path)
    # then
    assert Client.objects.get(id="region-eu").get_grant_types() == [
        Client.GrantType.AUTHORIZATION_CODE,
        Client.GrantType.CLIENT_CREDENTIALS,  # its directory token (accounts/tests/test_directory_tokens.py)
    ]
    assert not Token.objects.filter(client_id="region-eu", type=Token.Type.REFRESH_TOKEN).exists()


def test_the_provisioner_secret_is_a_keyed_hash(region_eu, tmp_path):
    result = provisioner_client_register(client_id="atrium-provisioner", secrets_dir=tmp_path)
    secret = json.loads(result.secret_file.read_text())["client_secret"]
    client = Client.objects.get(id="atrium-provisioner")
    assert client.secret.startswith("hmac-sha256$")
    assert client.check_secret(secret)


def test_rotating_the_provisioner_writes_its_own_secret_file(region_eu, tmp_path, settings):
    settings.ATRIUM_M2M_CLIENT_ID = "atrium-provisioner"
    first = provisioner_client_register(client_id="atrium-provisioner", secrets_dir=tmp_path)
    old = json.loads(first.secret_file.read_text())["client_secret"]
    rotated = oidc_client_secret_rotate(client_id="atrium-provisioner", secrets_dir=tmp_path)
    new = json.loads(rotated.secret_file.read_text())["client_secret"]
    assert rotated.secret_file == tmp_path / "atrium-provisioner.json"
    assert new != old
    client = Client.objects.get(id="atrium-provisioner")
    assert client.check_secret(new) and not client.check_secret(old)
