"""The region's Atrium login backend: ID token checks and who is admitted."""

import time
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings
from django.core.exceptions import SuspiciousOperation

from atrium_kit.auth import AtriumOIDCBackend
from atrium_kit.models import Tenant
from atrium_kit.selectors import user_admitted_by_pk, users_admitted_for_sub
from atrium_kit.services import user_upsert_local

KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def id_token(**overrides) -> str:
    now = int(time.time())
    claims = {
        "iss": settings.ATRIUM_ISSUER,
        "aud": settings.OIDC_RP_CLIENT_ID,
        "sub": str(uuid.uuid4()),
        "iat": now,
        "exp": now + 300,
        "nonce": "n-1",
    }
    claims.update(overrides)
    return jwt.encode(claims, KEY, algorithm="RS256", headers={"kid": "k1"})


def verify(token: str) -> dict:
    return AtriumOIDCBackend()._verify_jws(token, KEY.public_key())


def test_a_token_for_this_client_from_atrium_is_accepted():
    assert verify(id_token(sub="abc"))["sub"] == "abc"


def test_a_token_for_another_client_is_rejected():
    with pytest.raises(SuspiciousOperation, match="(?i)audience"):
        verify(id_token(aud="region-elsewhere"))


def test_a_token_from_another_issuer_is_rejected():
    with pytest.raises(SuspiciousOperation, match="(?i)issuer"):
        verify(id_token(iss="https://evil.test"))


def test_an_expired_token_is_rejected():
    with pytest.raises(SuspiciousOperation, match="(?i)expired"):
        verify(id_token(exp=int(time.time()) - 3600, iat=int(time.time()) - 7200))


def test_a_token_signed_by_another_key_is_rejected():
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode(jwt.decode(id_token(), options={"verify_signature": False}), other, algorithm="RS256")
    with pytest.raises(SuspiciousOperation):
        verify(forged)


def test_an_hs256_token_is_rejected_before_any_key_is_used():
    forged = jwt.encode({"sub": "x"}, "secret-secret-secret-secret-secret!", algorithm="HS256")
    with pytest.raises(SuspiciousOperation, match="algorithm"):
        verify(forged)


@pytest.mark.django_db
def test_only_active_users_of_active_tenants_are_admitted():
    sub = str(uuid.uuid4())
    acme = user_upsert_local(tenant_slug="acme", external_id=sub, email="a@acme.test")
    user_upsert_local(tenant_slug="initech", external_id=sub, email="a@acme.test", active=False)
    globex = user_upsert_local(tenant_slug="globex", external_id=sub, email="a@acme.test")
    Tenant.objects.filter(slug="globex").update(is_active=False)
    assert users_admitted_for_sub(sub=sub) == [acme]
    assert user_admitted_by_pk(pk=globex.pk) is None


@pytest.mark.django_db
def test_the_same_email_in_two_tenants_is_two_users():
    first = user_upsert_local(tenant_slug="acme", external_id=str(uuid.uuid4()), email="Same@x.test")
    second = user_upsert_local(tenant_slug="globex", external_id=str(uuid.uuid4()), email="same@x.test")
    assert first.pk != second.pk
    assert first.scim_username == second.scim_username == "same@x.test"
