"""Hostile regions for the account home's security alerts panel: a region answering junk that
breaks the JSON parser, one trickling its answer a byte at a time, one answering a huge body.
The home must still render (the region is "unavailable"), within the short budget."""

import socket
import ssl
import threading
import time

import pytest

from accounts.services import account_region_add
from products.alerts import account_alerts
from products.services import entitlement_set, product_create
from regions import client as region_client
from regions.models import Region
from regions.tests import test_client_alerts_support as support

pytestmark = pytest.mark.django_db(transaction=True)
pki, atrium_for_regions, fake_eu = support.pki, support.atrium_for_regions, support.fake_eu


@pytest.fixture
def acme_posture_eu(acme, fake_eu):
    posture = product_create(code="posture", name="Security Posture", regions=[fake_eu.region], trial_days=14)
    account_region_add(account=acme, region=fake_eu.region)
    entitlement_set(account=acme, product=posture, region=fake_eu.region, status="active")
    return acme


def test_a_deeply_nested_answer_is_unavailable_not_a_server_error(client, alice, acme_posture_eu, fake_eu):
    # given: a region whose answer makes the JSON parser recurse past Python's limit
    fake_eu.replies["acme"] = (200, "[" * 5000 + "]" * 5000)
    client.force_login(alice)
    # when
    response = client.get(f"/a/{acme_posture_eu.slug}/")
    # then
    assert response.status_code == 200
    assert 'data-alerts-region="eu" data-unavailable="yes"' in response.content.decode()


@pytest.mark.parametrize("body", ["[" * 5000, "[]", '"busy"'])
def test_an_error_page_that_is_no_json_object_is_unavailable_not_a_server_error(
    client, alice, acme_posture_eu, fake_eu, body
):
    fake_eu.replies["acme"] = (500, body)
    client.force_login(alice)
    response = client.get(f"/a/{acme_posture_eu.slug}/")
    assert response.status_code == 200
    assert 'data-alerts-region="eu" data-unavailable="yes"' in response.content.decode()


def test_a_huge_answer_is_refused_without_reading_it_all(acme_posture_eu, fake_eu):
    body = '{"tenant": "acme", "open": 0, "by_severity": {"high": 0, "medium": 0, "low": 0}, "url": "%s"}'
    fake_eu.replies["acme"] = (200, body % ("x" * 2_000_000))
    with pytest.raises(region_client.RegionError, match="too large"):
        region_client.tenant_alerts_summary(region=fake_eu.region, tenant_slug="acme")


class DripRegion:
    """A machine port that sends its status line and headers, then one body byte every `every`
    seconds: each read returns before the read timeout, so only a total deadline stops it."""

    def __init__(self, pki, every: float, seconds: float):
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(pki.ca_cert))
        context.load_cert_chain(str(pki.server_cert("us")), str(pki.server_key("us")))
        context.verify_mode = ssl.CERT_REQUIRED
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.context, self.every, self.seconds = context, every, seconds
        self.machine_url = f"https://127.0.0.1:{self.listener.getsockname()[1]}"
        self.stopped = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while not self.stopped.is_set():
            try:
                raw, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._drip, args=(raw,), daemon=True).start()

    def _drip(self, raw):
        try:
            with self.context.wrap_socket(raw, server_side=True) as conn:
                conn.recv(65536)
                conn.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n"
                )
                until = time.monotonic() + self.seconds
                while time.monotonic() < until and not self.stopped.is_set():
                    conn.sendall(b" ")
                    time.sleep(self.every)
        except (OSError, ssl.SSLError):
            pass  # the client hung up, as it should

    def stop(self):
        self.stopped.set()
        self.listener.close()


@pytest.fixture
def drip_us(pki, atrium_for_regions):
    drip = DripRegion(pki, every=0.1, seconds=8)
    drip.region = Region.objects.create(
        code="us", name="United States", people_url="http://127.0.0.1:8101", machine_url=drip.machine_url
    )
    yield drip
    drip.stop()


def test_a_region_trickling_its_answer_costs_at_most_the_short_timeout(drip_us, monkeypatch):
    monkeypatch.setattr(region_client, "ALERTS_SUMMARY_TIMEOUT_S", 0.5)
    region_client.m2m_token(audience=drip_us.machine_url, scope="tenant")  # the token is not what is timed
    started = time.monotonic()
    with pytest.raises(region_client.RegionError):
        region_client.tenant_alerts_summary(region=drip_us.region, tenant_slug="acme")
    assert time.monotonic() - started < 1.5


def test_the_home_with_a_trickling_region_is_served_quickly_and_says_unavailable(
    client, alice, acme, drip_us, monkeypatch
):
    monkeypatch.setattr(region_client, "ALERTS_SUMMARY_TIMEOUT_S", 0.5)
    posture = product_create(code="posture", name="Security Posture", regions=[drip_us.region], trial_days=14)
    account_region_add(account=acme, region=drip_us.region)
    entitlement_set(account=acme, product=posture, region=drip_us.region, status="active")
    region_client.m2m_token(audience=drip_us.machine_url, scope="tenant")
    client.force_login(alice)
    started = time.monotonic()
    response = client.get(f"/a/{acme.slug}/")
    assert time.monotonic() - started < 2.5
    assert 'data-alerts-region="us" data-unavailable="yes"' in response.content.decode()
    assert [r.available for r in account_alerts(account=acme)] == [False]  # cached: no second wait
