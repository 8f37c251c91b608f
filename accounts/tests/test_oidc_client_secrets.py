"""Client secrets as HMAC-SHA-256 under a server-side key: format, verification, upgrade of secrets
hashed the old way on their next successful use, and the rotate command."""

import io
import json

import pytest
from allauth.idp.oidc.admin import ClientAdmin
from allauth.idp.oidc.models import Client
from django.contrib.admin.sites import AdminSite
from django.contrib.auth.hashers import make_password
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import RequestFactory

from accounts import client_secrets
from accounts.client_secrets import PREFIX, client_secret_hash
from accounts.tests.oidc_helpers import TOKEN_URL, basic_auth, confidential_client, region_with_login_client

pytestmark = pytest.mark.django_db

SECRET = "a-256-bit-random-secret-0123456789abcdefghij"


def client_credentials(client, client_id: str, secret: str):
    return client.post(
        TOKEN_URL, {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=basic_auth(client_id, secret)
    )


@pytest.fixture
def machine(db):
    return confidential_client(
        "machine", SECRET, grant_types=[Client.GrantType.CLIENT_CREDENTIALS], scopes=["scim"]
    )


def test_set_secret_stores_a_keyed_hash_never_the_secret(machine):
    assert machine.secret.startswith(PREFIX)
    assert len(machine.secret) == len(PREFIX) + 64
    assert SECRET not in machine.secret
    assert Client.objects.get(id="machine").secret == client_secret_hash(SECRET)


def test_the_right_secret_gets_a_token_and_a_wrong_one_invalid_client(client, machine):
    assert client_credentials(client, "machine", SECRET).status_code == 200
    wrong = client_credentials(client, "machine", SECRET[:-1] + "X")
    assert wrong.status_code == 401
    assert wrong.json()["error"] == "invalid_client"


@pytest.mark.parametrize("presented", ["", None, 42, SECRET.upper()])
def test_check_secret_refuses_anything_but_the_secret(machine, presented):
    assert machine.check_secret(presented) is False


def test_the_hash_depends_on_the_configured_key(settings):
    settings.ATRIUM_CLIENT_SECRET_KEY = ""
    derived = client_secret_hash(SECRET)
    settings.ATRIUM_CLIENT_SECRET_KEY = "a-dedicated-client-secret-key"
    dedicated = client_secret_hash(SECRET)
    settings.SECRET_KEY = "another-secret-key-entirely-0123456789"
    assert dedicated == client_secret_hash(SECRET)  # SECRET_KEY no longer matters
    assert derived != dedicated


def test_the_key_derived_from_secret_key_is_not_secret_key_itself(settings):
    import hashlib
    import hmac

    settings.ATRIUM_CLIENT_SECRET_KEY = ""
    plain = hmac.new(settings.SECRET_KEY.encode(), SECRET.encode(), hashlib.sha256).hexdigest()
    assert client_secret_hash(SECRET) != PREFIX + plain


def test_a_secret_hashed_the_old_way_works_once_and_is_upgraded(client, machine):
    Client.objects.filter(id="machine").update(secret=make_password(SECRET))
    # when
    response = client_credentials(client, "machine", SECRET)
    # then
    assert response.status_code == 200, response.content
    assert Client.objects.get(id="machine").secret == client_secret_hash(SECRET)
    assert client_credentials(client, "machine", SECRET).status_code == 200


def test_a_wrong_secret_does_not_upgrade_an_old_hash(client, machine):
    legacy = make_password(SECRET)
    Client.objects.filter(id="machine").update(secret=legacy)
    assert client_credentials(client, "machine", "wrong").status_code == 401
    assert Client.objects.get(id="machine").secret == legacy


def test_the_client_model_methods_are_ours():
    assert Client.check_secret is client_secrets._check_secret
    assert Client.set_secret is client_secrets._set_secret


def test_a_client_added_in_django_admin_gets_a_keyed_hash(admin_user):
    request = RequestFactory().post("/admin/")
    request.user = admin_user
    request._messages = type("M", (), {"add": lambda *a, **k: None})()
    new = Client(id="from-admin", name="From admin")
    ClientAdmin(Client, AdminSite()).save_model(request, new, form=None, change=False)
    assert Client.objects.get(id="from-admin").secret.startswith(PREFIX)


# --- oidc_client_secret_rotate ----------------------------------------------------------------
def test_rotate_writes_a_new_secret_file_and_the_old_secret_stops_working(client, machine, tmp_path):
    out = io.StringIO()
    call_command("oidc_client_secret_rotate", "machine", secrets_dir=str(tmp_path), stdout=out)
    payload = json.loads((tmp_path / "machine.json").read_text())
    assert payload["client_id"] == "machine"
    assert (tmp_path / "machine.json").stat().st_mode & 0o777 == 0o600
    assert client_credentials(client, "machine", SECRET).status_code == 401
    assert client_credentials(client, "machine", payload["client_secret"]).status_code == 200
    assert "machine: new secret written to" in out.getvalue()


def test_rotate_writes_a_region_login_secret_where_the_region_reads_it(tmp_path):
    region = region_with_login_client("eu", tmp_path, 8102, 9102)
    call_command("oidc_client_secret_rotate", "region-eu", secrets_dir=str(tmp_path), stdout=io.StringIO())
    payload = json.loads((tmp_path / "region-eu.json").read_text())
    assert payload["client_secret"] != region.secret
    assert Client.objects.get(id="region-eu").check_secret(payload["client_secret"])


def test_rotate_legacy_rotates_only_clients_hashed_the_old_way(machine, tmp_path):
    confidential_client("old-one", "x", grant_types=[Client.GrantType.CLIENT_CREDENTIALS], scopes=["scim"])
    Client.objects.filter(id="old-one").update(secret=make_password("x"))
    call_command("oidc_client_secret_rotate", legacy=True, secrets_dir=str(tmp_path), stdout=io.StringIO())
    assert Client.objects.get(id="old-one").secret.startswith(PREFIX)
    assert (tmp_path / "old-one.json").exists()
    assert not (tmp_path / "machine.json").exists()


def test_rotate_names_an_unknown_client(tmp_path):
    with pytest.raises(CommandError, match="Unknown OIDC client 'nobody'"):
        call_command("oidc_client_secret_rotate", "nobody", secrets_dir=str(tmp_path))


def test_rotate_refuses_a_client_id_that_cannot_name_a_file(tmp_path):
    Client.objects.create(id="../escape", name="bad")
    with pytest.raises(CommandError, match="cannot name a secret file"):
        call_command("oidc_client_secret_rotate", "../escape", secrets_dir=str(tmp_path))
    assert not (tmp_path.parent / "escape.json").exists()


# --- the signing key is parsed once per process ----------------------------------------------
def test_the_signing_key_is_parsed_once_and_each_caller_gets_its_own_jwk(oidc_signing_key):
    from allauth.core.internal import jwkkit

    first_jwk, first_key = jwkkit.load_jwk_from_pem(oidc_signing_key)
    first_jwk["use"] = "sig"  # a caller adding to its copy
    second_jwk, second_key = jwkkit.load_jwk_from_pem(oidc_signing_key)
    assert second_key is first_key
    assert "use" not in second_jwk
    assert jwkkit.load_jwk_from_pem._atrium_cached is True
