"""Hostile review (issue 9, identity): onboarding is for customers without an account — staff
(operators, sales) never become the owner of a customer account through /welcome/ — and forged
region values are form errors, never a 500."""

import pytest

from accounts.models import Account
from conftest import make_region, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def regions(db):
    return {"eu": make_region("eu", 8102, 9102)}


@pytest.fixture
def operator(client, regions):
    staff = make_user("operator@atrium.test")
    staff.is_staff = True
    staff.save(update_fields=["is_staff"])
    client.force_login(staff)
    return staff


def test_staff_opening_onboarding_are_sent_on_and_see_no_form(client, operator):
    response = client.get("/welcome/")
    assert response.status_code == 302 and response["Location"] != "/welcome/"


def test_staff_posting_to_onboarding_create_no_customer_account(client, operator):
    response = client.post("/welcome/", {"company_name": "Operators Inc", "region": "eu"})
    assert response.status_code in (302, 403)
    assert not Account.objects.exists()


@pytest.mark.parametrize("region", ["e\x00u", "eu" * 5000, "🇪🇺", " eu"])
def test_a_forged_region_is_a_form_error(client, regions, region):
    client.force_login(make_user("dana@initrode.test"))
    response = client.post("/welcome/", {"company_name": "Initrode", "region": region})
    assert response.status_code == 400
    if "\x00" not in region:  # a NUL byte is refused before any view (portal-wide), also a 400
        assert 'data-error="region"' in response.content.decode()
    assert not Account.objects.exists()


@pytest.mark.parametrize("email", ["dana@initrode.test", "DANA@Initrode.Test", " dana@initrode.test "])
def test_signing_up_again_with_an_unverified_address_in_any_case_makes_no_second_identity(
    client, regions, email
):
    from django.contrib.auth import get_user_model

    password = "a-long-and-unusual-passphrase-77"
    first = client.post(
        "/accounts/signup/", {"email": "dana@initrode.test", "password1": password, "password2": password}
    )
    assert first.status_code == 302
    client.logout()
    again = client.post("/accounts/signup/", {"email": email, "password1": password, "password2": password})
    assert again.status_code in (200, 302)
    assert get_user_model().objects.filter(email__iexact="dana@initrode.test").count() == 1
