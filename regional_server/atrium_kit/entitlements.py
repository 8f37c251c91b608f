"""The tenant's entitlements document: what Atrium may send, and the check product views use.

A document is `{"tenant": <slug>, "products": [{"code", "status", "ends_at"}, ...]}` plus the
ledger's `"version"`. Everything is validated before anything is stored: a malformed document is
refused whole (a 400 to Atrium, which shows it as a failed row), never stored half-read."""

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

STATUSES = frozenset({"trial", "active", "expired", "cancelled"})
ENTITLING_STATUSES = frozenset({"trial", "active"})
# \Z, not $: `$` also matches before a trailing newline ("backup\n" would pass).
PRODUCT_CODE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,48}[a-z0-9])?\Z")
MAX_PRODUCTS = 500
MAX_VERSION = 2**31 - 1  # the column's range

# What the tenant's entitlements document says about one product, now.
ENTITLED = "entitled"
EXPIRED = "expired"
NONE = "none"


class DocumentInvalid(Exception):
    def __init__(self, detail: str):
        super().__init__(detail)
        self.detail = detail


@dataclass(frozen=True)
class EntitlementsUpdate:
    version: int
    document: dict


def document_parse(body: Any, *, tenant_slug: str) -> EntitlementsUpdate:
    """The normalised document (products sorted by code, ends_at in ISO 8601) and its version."""
    if not isinstance(body, dict):
        raise DocumentInvalid("The body must be a JSON object.")
    if body.get("tenant") != tenant_slug:
        raise DocumentInvalid("`tenant` must name the tenant of the URL.")
    version = body.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or not 1 <= version <= MAX_VERSION:
        raise DocumentInvalid("`version` must be a positive integer.")
    products = body.get("products")
    if not isinstance(products, list) or len(products) > MAX_PRODUCTS:
        raise DocumentInvalid(f"`products` must be a list of at most {MAX_PRODUCTS} entitlements.")
    parsed = [_product(item) for item in products]
    codes = [p["code"] for p in parsed]
    if len(set(codes)) != len(codes):
        raise DocumentInvalid("Each product may appear once.")
    document = {"tenant": tenant_slug, "products": sorted(parsed, key=lambda p: p["code"])}
    return EntitlementsUpdate(version=version, document=document)


def _product(item: Any) -> dict:
    if not isinstance(item, dict):
        raise DocumentInvalid("Each product must be an object with code, status and ends_at.")
    code, status, ends_at = item.get("code"), item.get("status"), item.get("ends_at")
    if not isinstance(code, str) or not PRODUCT_CODE.match(code):
        raise DocumentInvalid("A product `code` must be a short lowercase slug.")
    if not isinstance(status, str) or status not in STATUSES:
        raise DocumentInvalid(f"Product {code}: `status` must be one of {', '.join(sorted(STATUSES))}.")
    return {"code": code, "status": status, "ends_at": _instant(code, ends_at)}


def _instant(code: str, value: Any) -> str | None:
    if value is None:
        return None
    try:
        instant = datetime.fromisoformat(value) if isinstance(value, str) and len(value) <= 40 else None
    except ValueError:
        instant = None
    if instant is None or instant.tzinfo is None:
        raise DocumentInvalid(f"Product {code}: `ends_at` must be null or an ISO 8601 time with an offset.")
    try:
        # Year 9999 behind UTC (or year 1 ahead of it) parses but has no UTC time: every page that
        # showed the date would fail. Refuse it here, with the rest of the document.
        instant.astimezone(UTC)
    except OverflowError:
        raise DocumentInvalid(
            f"Product {code}: `ends_at` is outside the range of representable times."
        ) from None
    return instant.isoformat()


def entitlement_state(document: dict | None, *, code: str, now: datetime) -> tuple[str, dict | None]:
    """(ENTITLED | EXPIRED | NONE, the document's entry for `code` or None).

    Expired means the product was held and its time ran out: the document says `expired`, or a
    trial/active entitlement is past its `ends_at` (the region enforces the end itself, without
    waiting for Atrium's push). Cancelled, or not in the document at all, is NONE."""
    for product in (document or {}).get("products", []):
        if product["code"] != code:
            continue
        if product["status"] == "expired":
            return EXPIRED, product
        if product["status"] not in ENTITLING_STATUSES:
            return NONE, product
        ends_at = product["ends_at"]
        if ends_at is not None and datetime.fromisoformat(ends_at) <= now:
            return EXPIRED, product
        return ENTITLED, product
    return NONE, None


def entitlement_of(document: dict | None, *, code: str, now: datetime) -> dict | None:
    """The tenant's entitlement to `code` if it grants access now (trial or active, not past
    ends_at), else None."""
    state, entry = entitlement_state(document, code=code, now=now)
    return entry if state == ENTITLED else None
