"""Hostile review: product codes with odd characters — in Atrium's entitlements document, in
ATRIUM_KIT_PRODUCTS, in @product_view — are refused; `$` in a pattern also matches before a
trailing newline, so "backup\\n" used to pass as a code."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from atrium_kit.checks import products_registered
from atrium_kit.entitlements import DocumentInvalid, document_parse
from atrium_kit.products import product_view, registered_products

ODD_CODES = ["backup\n", "backup\r\n", "back up", "Backup", "backup/", "bäckup", "-backup", "backup\x00", ""]


@pytest.mark.parametrize("code", ODD_CODES)
def test_an_entitlements_document_with_an_odd_product_code_is_refused_whole(code):
    body = {"tenant": "acme", "version": 1, "products": [{"code": code, "status": "active", "ends_at": None}]}
    with pytest.raises(DocumentInvalid):
        document_parse(body, tenant_slug="acme")


@pytest.mark.parametrize("code", ODD_CODES)
def test_a_registration_with_an_odd_code_fails_the_system_check(code):
    with override_settings(ATRIUM_KIT_PRODUCTS={code: "backup"}):
        with pytest.raises(ImproperlyConfigured, match="is not a product code"):
            registered_products()
        assert [e.id for e in products_registered()] == ["atrium_kit.E001"]


@pytest.mark.parametrize("code", ODD_CODES)
def test_product_view_refuses_an_odd_code(code):
    with pytest.raises(ImproperlyConfigured):
        product_view(code)


def test_a_plain_slug_code_still_registers():
    with override_settings(ATRIUM_KIT_PRODUCTS={"data-backup": "backup"}):
        assert [p.code for p in registered_products()] == ["data-backup"]


def test_one_app_under_two_codes_fails_the_system_check():
    with override_settings(ATRIUM_KIT_PRODUCTS={"backup": "backup", "bkp": "backup"}):
        with pytest.raises(ImproperlyConfigured, match="one app under two product codes"):
            registered_products()
        assert [e.id for e in products_registered()] == ["atrium_kit.E001"]
