"""The one seam that asks DNS: TXT records through a configurable resolver (dnspython).

`ATRIUM_DNS_RESOLVER` = "host:port" sends every query to that server (a company resolver, or
the local DNS server the tests start); empty uses the system's resolver (/etc/resolv.conf)."""

from dataclasses import dataclass

import dns.exception
import dns.resolver
from django.conf import settings

TIMEOUT_SECONDS = 3.0


@dataclass(frozen=True)
class TxtLookup:
    values: tuple[str, ...]
    error: str = ""


def _resolver() -> dns.resolver.Resolver:
    configured = (getattr(settings, "ATRIUM_DNS_RESOLVER", "") or "").strip()
    if not configured:
        resolver = dns.resolver.Resolver()
    else:
        host, _, port = configured.rpartition(":")
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers = [host.strip("[]")]
        resolver.port = int(port)
    resolver.lifetime = TIMEOUT_SECONDS
    resolver.timeout = TIMEOUT_SECONDS
    return resolver


def txt_lookup(*, name: str) -> TxtLookup:
    """Every TXT string published at `name` (multi-string records joined, as RFC 7208 does),
    or an error a person can act on; never raises for DNS failures."""
    try:
        answer = _resolver().resolve(name, "TXT", raise_on_no_answer=False)
    except dns.resolver.NXDOMAIN:
        return TxtLookup((), f"{name} does not exist in DNS (yet).")
    except (dns.resolver.NoNameservers, dns.exception.Timeout):
        return TxtLookup((), "The DNS servers did not answer; try again in a few minutes.")
    except dns.exception.DNSException as exc:
        return TxtLookup((), f"The DNS lookup failed ({exc.__class__.__name__}).")
    values = tuple(b"".join(rdata.strings).decode("utf-8", "replace") for rdata in (answer.rrset or ()))
    if not values:
        return TxtLookup((), f"{name} has no TXT record (yet).")
    return TxtLookup(values)
