"""Hostile review of domain proof (issue 11, reviewer rsso): a TXT answer proves a claim only
when it is the claim's own token at the claim's own record name."""

import pytest
from dnslib import QTYPE, RR, TXT
from dnslib.server import BaseResolver, DNSServer

from accounts import sso
from accounts.models import Membership
from accounts.services import account_create
from accounts.tests.sso_helpers import TxtServer, free_udp_port

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner(acme, alice):
    return Membership.objects.get(account=acme, user=alice)


@pytest.fixture
def globex_owner(carol):
    account = account_create(name="Globex", slug="globex", owner=carol)
    return Membership.objects.get(account=account, user=carol)


def test_another_accounts_published_token_does_not_verify_my_claim(owner, globex_owner, settings):
    # Acme really owns acme.example and published its token; Globex claims the same domain.
    mine = sso.domain_claim(actor=owner, domain="acme.example")
    theirs = sso.domain_claim(actor=globex_owner, domain="acme.example")
    assert mine.verification_token != theirs.verification_token
    with TxtServer({mine.record_name: [mine.record_value]}) as dns:
        settings.ATRIUM_DNS_RESOLVER = dns.address
        assert not sso.domain_check(actor=globex_owner, claim=theirs).is_verified
        assert sso.domain_check(actor=owner, claim=mine).is_verified


class _SpoofingResolver(BaseResolver):
    """Answers every TXT query with the token, but under another name (an off-path or
    misconfigured server): the answer does not concern the name asked."""

    def __init__(self, value: str):
        self.value = value

    def resolve(self, request, handler):
        reply = request.reply()
        reply.add_answer(RR("_atrium-challenge.evil.example.", QTYPE.TXT, rdata=TXT(self.value), ttl=60))
        return reply


def test_a_txt_answer_under_another_name_does_not_verify(owner, settings):
    claim = sso.domain_claim(actor=owner, domain="acme.example")
    port = free_udp_port()
    server = DNSServer(_SpoofingResolver(claim.record_value), port=port, address="127.0.0.1")
    server.start_thread()
    try:
        settings.ATRIUM_DNS_RESOLVER = f"127.0.0.1:{port}"
        checked = sso.domain_check(actor=owner, claim=claim)
    finally:
        server.stop()
    assert not checked.is_verified
    assert checked.last_check_error


def test_a_token_published_at_the_bare_domain_does_not_verify(owner, settings):
    claim = sso.domain_claim(actor=owner, domain="acme.example")
    with TxtServer({"acme.example": [claim.record_value]}) as dns:
        settings.ATRIUM_DNS_RESOLVER = dns.address
        assert not sso.domain_check(actor=owner, claim=claim).is_verified
