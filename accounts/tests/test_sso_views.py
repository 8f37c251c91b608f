"""/a/<slug>/sso/: who may see it, claims and checks through the page, the IdP form (discovery
fetched from a real HTTP server), isolation between accounts and bad input."""

import pytest
from allauth.socialaccount.models import SocialApp
from django.urls import reverse

from accounts import sso
from accounts.models import AuditEvent, Membership
from accounts.models_sso import ClaimedDomain, SSOConnection
from accounts.services import account_create
from accounts.tests.sso_helpers import DiscoveryServer, TxtServer
from conftest import make_user

pytestmark = pytest.mark.django_db
SECRET = "s3cret-value-never-shown-0123"


@pytest.fixture
def globex(carol):
    return account_create(name="Globex", slug="globex", owner=carol)


@pytest.fixture
def as_alice(client, alice, acme):
    client.force_login(alice)
    return client


@pytest.fixture
def idp(settings):
    settings.ATRIUM_SSO_ALLOW_INSECURE_ISSUERS = True
    with DiscoveryServer() as server:
        yield server


def _connection_post(idp, **overrides):
    data = {"issuer": idp.url, "client_id": "atrium-client", "secret": SECRET, "default_role": "member",
            "enabled": "on"}  # fmt: skip
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def test_owner_sees_the_page_with_the_txt_record_to_publish(as_alice, acme, alice):
    claim = sso.domain_claim(actor=Membership.objects.get(account=acme, user=alice), domain="acme.example")
    response = as_alice.get("/a/acme/sso/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "_atrium-challenge.acme.example" in html
    assert claim.record_value in html
    assert "/accounts/oidc/sso-acme/login/callback/" in html


@pytest.mark.parametrize("role", [Membership.Role.MEMBER, Membership.Role.BILLING, Membership.Role.READ_ONLY])
def test_roles_without_sso_manage_get_403_on_every_page(client, acme, role):
    person = make_user(f"{role}@acme.test")
    membership = Membership.objects.create(account=acme, user=person, role=role)
    claim = ClaimedDomain.objects.create(account=acme, domain="acme.example", verification_token="t")
    client.force_login(person)
    assert client.get("/a/acme/sso/").status_code == 403
    for path in ("domains/", f"domains/{claim.pk}/check/", f"domains/{claim.pk}/remove/", "connection/"):
        assert client.post(f"/a/acme/sso/{path}", {"domain": "x.example"}).status_code == 403, path
    assert ClaimedDomain.objects.filter(account=acme).count() == 1
    assert membership.role == role


def test_an_admin_of_another_account_gets_404_for_our_pages_and_objects(client, acme, globex, carol):
    claim = ClaimedDomain.objects.create(account=acme, domain="acme.example", verification_token="t")
    client.force_login(carol)
    assert client.get("/a/acme/sso/").status_code == 404
    assert client.post("/a/acme/sso/domains/", {"domain": "evil.example"}).status_code == 404
    # Her own account's URLs with our claim's id: still 404, and the claim is untouched.
    assert client.post(f"/a/globex/sso/domains/{claim.pk}/check/").status_code == 404
    assert client.post(f"/a/globex/sso/domains/{claim.pk}/remove/").status_code == 404
    assert ClaimedDomain.objects.filter(pk=claim.pk).exists()


def test_signed_out_visitors_are_sent_to_login(client, acme):
    response = client.get("/a/acme/sso/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_claiming_through_the_page_creates_a_pending_claim(as_alice, acme):
    response = as_alice.post("/a/acme/sso/domains/", {"domain": "Acme.Example"})
    assert response.status_code == 302
    assert ClaimedDomain.objects.get(account=acme).domain == "acme.example"


@pytest.mark.parametrize(
    ("domain", "error"),
    [("gmail.com", "public mail service"), ("not a domain", "example.com"), ("", "required"),
     ("x" * 300, "at most")],
)  # fmt: skip
def test_bad_domains_answer_a_form_error(as_alice, acme, domain, error):
    response = as_alice.post("/a/acme/sso/domains/", {"domain": domain})
    assert response.status_code == 400
    assert error in response.content.decode()
    assert not ClaimedDomain.objects.exists()


def test_check_now_verifies_through_the_local_dns_server(as_alice, acme, alice, settings):
    claim = sso.domain_claim(actor=Membership.objects.get(account=acme, user=alice), domain="acme.example")
    with TxtServer({claim.record_name: [claim.record_value]}) as dns:
        settings.ATRIUM_DNS_RESOLVER = dns.address
        response = as_alice.post(f"/a/acme/sso/domains/{claim.pk}/check/", follow=True)
    assert "acme.example is verified" in response.content.decode()
    claim.refresh_from_db()
    assert claim.is_verified


def test_unknown_claim_ids_are_404(as_alice, acme):
    assert as_alice.post("/a/acme/sso/domains/999999/check/").status_code == 404


def test_pages_refuse_wrong_methods(as_alice, acme):
    assert as_alice.get("/a/acme/sso/domains/").status_code == 405
    assert as_alice.get("/a/acme/sso/connection/").status_code == 405
    assert as_alice.post("/a/acme/sso/").status_code == 405


def test_the_page_costs_a_fixed_number_of_queries(
    as_alice, acme, alice, admin_user, django_assert_num_queries
):
    owner = Membership.objects.get(account=acme, user=alice)
    for index in range(5):
        claim = sso.domain_claim(actor=owner, domain=f"d{index}.acme.example")
        sso.domain_verify_by_staff(claim=claim, staff=admin_user)
    as_alice.get("/a/acme/sso/")  # warm the session
    with django_assert_num_queries(6):
        assert as_alice.get("/a/acme/sso/").status_code == 200


def test_saving_the_idp_creates_one_allauth_app_for_the_account(as_alice, acme, idp):
    response = as_alice.post("/a/acme/sso/connection/", _connection_post(idp, trust_idp_mfa="on"))
    assert response.status_code == 302, response.content.decode()[:2000]
    connection = SSOConnection.objects.get(account=acme)
    app = connection.app
    assert (app.provider, app.provider_id, app.client_id, app.secret) == (
        "openid_connect", "sso-acme", "atrium-client", SECRET,
    )  # fmt: skip
    assert app.settings == {"server_url": idp.url}
    assert connection.trust_idp_mfa and connection.enabled and connection.default_role == "member"
    event = AuditEvent.objects.get(action="sso.connection_created")
    assert SECRET not in str(event.after) and event.after["secret_changed"] is True


def test_the_secret_is_never_shown_back_and_an_empty_one_keeps_it(as_alice, acme, idp):
    as_alice.post("/a/acme/sso/connection/", _connection_post(idp))
    page = as_alice.get("/a/acme/sso/").content.decode()
    assert SECRET not in page
    response = as_alice.post("/a/acme/sso/connection/", _connection_post(idp, secret="", client_id="renamed"))
    assert response.status_code == 302
    app = SocialApp.objects.get(provider_id="sso-acme")
    assert (app.client_id, app.secret) == ("renamed", SECRET)
    assert SocialApp.objects.count() == 1
    event = AuditEvent.objects.get(action="sso.connection_updated")
    assert event.before["client_id"] == "atrium-client" and event.after["client_id"] == "renamed"


@pytest.mark.parametrize(
    ("breakage", "error"),
    [
        ({"status": 404}, "answered HTTP 404"),
        ({"raw": "<html>not json</html>"}, "did not answer JSON"),
        ({"raw": "[1, 2]"}, "did not answer a discovery document"),
        ({"document": {"issuer": "https://someone-else.example"}}, "calls itself"),
        ({"drop": "jwks_uri"}, "lacks jwks_uri"),
    ],
)
def test_a_bad_discovery_document_is_a_form_error(as_alice, acme, idp, breakage, error):
    if "status" in breakage:
        idp.status = breakage["status"]
    if "raw" in breakage:
        idp.raw = breakage["raw"]
    if "document" in breakage:
        idp.document = idp.valid_document() | breakage["document"]
    if "drop" in breakage:
        idp.document.pop(breakage["drop"])
    response = as_alice.post("/a/acme/sso/connection/", _connection_post(idp))
    assert response.status_code == 400
    assert error in response.content.decode()
    assert not SSOConnection.objects.exists() and not SocialApp.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"issuer": "not a url"}, "Enter a valid URL"),
        ({"issuer": "http://127.0.0.1:9"}, "Could not reach"),
        ({"client_id": ""}, "required"),
        ({"client_id": "has space"}, "no spaces"),
        ({"secret": ""}, "client secret"),
        ({"default_role": "owner"}, "Select a valid choice"),
    ],
)
def test_bad_connection_values_are_form_errors(as_alice, acme, idp, overrides, error):
    response = as_alice.post("/a/acme/sso/connection/", _connection_post(idp, **overrides))
    assert response.status_code == 400
    assert error in response.content.decode()
    assert not SSOConnection.objects.exists()


def test_plain_http_issuers_are_refused_unless_allowed(as_alice, acme, idp, settings):
    settings.ATRIUM_SSO_ALLOW_INSECURE_ISSUERS = False
    response = as_alice.post("/a/acme/sso/connection/", _connection_post(idp))
    assert response.status_code == 400
    assert "must be an https:// URL" in response.content.decode()


def test_the_settings_page_links_to_sso_for_admins(as_alice, acme):
    assert reverse("sso:index", args=["acme"]) in as_alice.get("/a/acme/settings/").content.decode()


def test_claiming_twice_or_a_domain_verified_elsewhere_is_a_form_error(
    as_alice, acme, globex, carol, admin_user
):
    assert as_alice.post("/a/acme/sso/domains/", {"domain": "acme.example"}).status_code == 302
    again = as_alice.post("/a/acme/sso/domains/", {"domain": "ACME.example"})
    assert again.status_code == 400 and "already claimed" in again.content.decode()
    theirs = sso.domain_claim(
        actor=Membership.objects.get(account=globex, user=carol), domain="globex.example"
    )
    sso.domain_verify_by_staff(claim=theirs, staff=admin_user)
    taken = as_alice.post("/a/acme/sso/domains/", {"domain": "globex.example"})
    assert taken.status_code == 400 and "another Atrium account" in taken.content.decode()
    assert ClaimedDomain.objects.filter(account=acme).count() == 1


def test_check_now_of_a_domain_verified_elsewhere_meanwhile_says_so(
    as_alice, acme, alice, globex, carol, settings
):
    mine = sso.domain_claim(actor=Membership.objects.get(account=acme, user=alice), domain="shared.example")
    theirs = sso.domain_claim(
        actor=Membership.objects.get(account=globex, user=carol), domain="shared.example"
    )
    with TxtServer({mine.record_name: [mine.record_value, theirs.record_value]}) as dns:
        settings.ATRIUM_DNS_RESOLVER = dns.address
        sso.domain_check(actor=Membership.objects.get(account=globex, user=carol), claim=theirs)
        response = as_alice.post(f"/a/acme/sso/domains/{mine.pk}/check/", follow=True)
    assert "already verified by another Atrium account" in response.content.decode()
    mine.refresh_from_db()
    assert not mine.is_verified


def test_removing_a_claim_through_the_page(as_alice, acme, alice):
    claim = sso.domain_claim(actor=Membership.objects.get(account=acme, user=alice), domain="acme.example")
    response = as_alice.post(f"/a/acme/sso/domains/{claim.pk}/remove/")
    assert response.status_code == 302
    assert not ClaimedDomain.objects.exists()
