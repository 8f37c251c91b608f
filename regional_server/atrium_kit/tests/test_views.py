import uuid

import pytest
from django.conf import settings
from django.test import override_settings

from atrium_kit.services import user_upsert_local

pytestmark = pytest.mark.django_db

PEOPLE_HOST = settings.REGION_PEOPLE_URL.split("://", 1)[1]


@pytest.fixture
def client(client):
    client.defaults["HTTP_HOST"] = PEOPLE_HOST
    return client


def test_home_sends_an_anonymous_visitor_into_the_atrium_login(client):
    to_login = client.get("/")
    to_atrium = client.get(to_login["Location"])
    assert to_atrium.status_code == 302
    assert to_atrium["Location"].startswith(settings.OIDC_OP_AUTHORIZATION_ENDPOINT + "?")
    assert "code_challenge_method=S256" in to_atrium["Location"]
    assert f"client_id={settings.OIDC_RP_CLIENT_ID}" in to_atrium["Location"]


def test_other_host_names_are_sent_to_the_people_url(client):
    response = client.get("/healthz", HTTP_HOST="localhost")
    assert response.status_code == 301
    assert response["Location"] == settings.REGION_PEOPLE_URL + "/healthz"


def test_a_callback_without_a_login_in_progress_redirects_to_the_refused_page(client):
    response = client.get("/oidc/callback/?code=abc&state=xyz")
    assert response.status_code == 302
    assert response["Location"] == "/refused/?reason=login_failed"
    page = client.get(response["Location"])
    assert page.status_code == 403
    assert b"Access refused" in page.content
    assert b"could not be completed" in page.content


def test_a_reloaded_callback_of_a_finished_login_goes_home(client, acme_user_also_in_globex):
    # given a login whose state was used up (the session holds other states only)
    client.force_login(acme_user_also_in_globex)
    session = client.session
    session["oidc_states"] = {"other-state": {"nonce": "n", "code_verifier": "v"}}
    session.save()
    # when the browser reloads the one-time callback URL
    response = client.get("/oidc/callback/?code=used-code&state=used-state")
    # then it is sent home, not shown a 400
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_a_reloaded_callback_of_a_refused_login_shows_the_refused_page(client):
    session = client.session
    session["oidc_states"] = {}
    session.save()
    response = client.get("/oidc/callback/?code=used-code&state=used-state", follow=True)
    assert response.status_code == 403
    assert response.redirect_chain == [("/refused/?reason=login_failed", 302)]


def test_the_refused_page_explains_a_known_reason(client):
    response = client.get("/refused/?reason=not_provisioned")
    assert response.status_code == 403
    assert b"has no access to this region" in response.content


def test_the_refused_page_gives_a_generic_message_for_an_unknown_reason(client):
    response = client.get("/refused/?reason=%3Cscript%3E")
    assert response.status_code == 403
    assert b"Access to this region was refused." in response.content
    assert b"<script>" not in response.content


@pytest.fixture
def acme_user_also_in_globex():
    """One person (one Atrium sub) in two tenants of this region; returns the Acme user."""
    sub = str(uuid.uuid4())
    acme = user_upsert_local(tenant_slug="acme", external_id=sub, email="a@acme.test")
    user_upsert_local(tenant_slug="globex", external_id=sub, email="a@acme.test")
    return acme


def test_home_shows_the_user_and_offers_their_other_tenants(client, acme_user_also_in_globex):
    client.force_login(acme_user_also_in_globex)
    response = client.get("/")
    assert b'data-testid="region-tenant">acme<' in response.content
    assert b"/tenants/globex/switch/" in response.content


def test_switching_tenant_keeps_the_person_and_changes_the_tenant(client, acme_user_also_in_globex):
    client.force_login(acme_user_also_in_globex)
    client.post("/tenants/globex/switch/")
    assert b'data-testid="region-tenant">globex<' in client.get("/").content


def test_a_tenant_of_someone_else_cannot_be_switched_to(client):
    acme = user_upsert_local(tenant_slug="acme", external_id=str(uuid.uuid4()), email="a@acme.test")
    user_upsert_local(tenant_slug="globex", external_id=str(uuid.uuid4()), email="g@globex.test")
    client.force_login(acme)
    assert client.post("/tenants/globex/switch/").status_code == 404


@override_settings(DEBUG=False)
def test_healthz_names_the_region(client):
    assert client.get("/healthz").json() == {"status": "ok", "region": settings.REGION_CODE}
