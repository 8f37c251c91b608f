"""`max_age` forces a fresh login once the session is older, and the ID token then carries
`auth_time`; `prompt=login` and `prompt=none` keep working as before (issue 11)."""

import time
from urllib.parse import urlparse

import pytest
import time_machine
from django.urls import reverse

from accounts.tests.oidc_helpers import unverified_claims
from accounts.tests.oidc_spec_helpers import (
    REDIRECT,
    authorize_url,
    code_of,
    exchange,
    password_login,
    query_of,
    rp_client,
)
from conftest import PASSWORD, pkce_pair

pytestmark = pytest.mark.django_db


@pytest.fixture
def rp(db):
    return rp_client()


def reauthenticate(client, location: str):
    """Type the password on allauth's re-authentication page we were sent to."""
    assert urlparse(location).path == reverse("account_reauthenticate"), location
    page = client.get(location)
    assert page.status_code == 200
    return client.post(location, {"password": PASSWORD})


def test_max_age_1_on_a_session_older_than_a_second_asks_for_the_password_again(client, alice, rp):
    password_login(client, alice.email)
    verifier, challenge = pkce_pair()
    url = authorize_url(challenge, max_age="1")
    with time_machine.travel(time.time() + 5, tick=True):
        # when the RP asks for a login at most a second old
        sent = client.get(url)
        # then the person is asked to sign in again, and comes back to the same request
        assert sent.status_code == 302
        assert query_of(sent["Location"])["next"] == url
        fresh_at = int(time.time())
        back = reauthenticate(client, sent["Location"])
        assert back.status_code == 302 and back["Location"] == url
        code = code_of(client.get(back["Location"]))
        claims = unverified_claims(exchange(client, code, verifier).json()["id_token"])
    assert fresh_at <= claims["auth_time"] <= fresh_at + 2
    assert claims["amr"] == ["pwd"]


def test_max_age_0_asks_every_time_but_the_fresh_login_satisfies_its_own_request(client, alice, rp):
    password_login(client, alice.email)
    verifier, challenge = pkce_pair()
    url = authorize_url(challenge, max_age="0")
    back = reauthenticate(client, client.get(url)["Location"])
    # the request the person re-authenticated for gets its code (no loop) ...
    code_of(client.get(back["Location"]))
    # ... and a new request with max_age=0 asks again
    _, challenge2 = pkce_pair()
    again = client.get(authorize_url(challenge2, max_age="0"))
    assert urlparse(again["Location"]).path == reverse("account_reauthenticate")


def test_a_login_within_max_age_gets_a_code_at_once_with_auth_time(client, alice, rp):
    before = int(time.time())
    password_login(client, alice.email)
    verifier, challenge = pkce_pair()
    code = code_of(client.get(authorize_url(challenge, max_age="3600")))
    claims = unverified_claims(exchange(client, code, verifier).json()["id_token"])
    assert before <= claims["auth_time"] <= int(time.time()) + 1


def test_the_fresh_login_of_one_request_does_not_satisfy_another(client, alice, rp):
    password_login(client, alice.email)
    _, first = pkce_pair()
    reauthenticate(client, client.get(authorize_url(first, max_age="0"))["Location"])
    # a different request (another state) with max_age=0 after that login is not its fresh login
    _, second = pkce_pair()
    sent = client.get(authorize_url(second, max_age="0", state="st-2"))
    assert urlparse(sent["Location"]).path == reverse("account_reauthenticate")


def test_max_age_with_prompt_none_on_an_old_session_answers_login_required_to_the_client(client, alice, rp):
    password_login(client, alice.email)
    _, challenge = pkce_pair()
    with time_machine.travel(time.time() + 120, tick=True):
        response = client.get(authorize_url(challenge, max_age="60", prompt="none"))
    assert response.status_code == 302
    assert response["Location"].startswith(REDIRECT + "?")
    answer = query_of(response["Location"])
    assert answer["error"] == "login_required"
    assert answer["state"] == "st-1"
    assert "code" not in answer


def test_an_unregistered_redirect_uri_under_prompt_none_is_never_redirected_to(client, alice, rp):
    password_login(client, alice.email)
    _, challenge = pkce_pair()
    url = authorize_url(challenge, max_age="0", prompt="none", redirect_uri="https://evil.test/cb")
    response = client.get(url)
    assert not response.get("Location", "").startswith("https://evil.test")
    assert response.status_code == 400


def test_prompt_none_on_a_session_that_granted_the_client_before_still_gets_a_code(client, alice, rp):
    password_login(client, alice.email)
    verifier, challenge = pkce_pair()
    exchange(client, code_of(client.get(authorize_url(challenge))), verifier)
    # allauth's silent authorization: the scopes were granted to this client before
    _, challenge = pkce_pair()
    code_of(client.get(authorize_url(challenge, prompt="none", max_age="600")))


def test_prompt_none_without_a_session_still_answers_login_required(client, rp):
    _, challenge = pkce_pair()
    response = client.get(authorize_url(challenge, prompt="none"))
    assert response.status_code == 302
    assert response["Location"].startswith(REDIRECT)
    assert query_of(response["Location"])["error"] == "login_required"


def test_prompt_login_still_asks_for_the_password_then_issues_the_code(client, alice, rp):
    password_login(client, alice.email)
    verifier, challenge = pkce_pair()
    sent = client.get(authorize_url(challenge, prompt="login", max_age="0"))
    back = reauthenticate(client, sent["Location"])
    # allauth sends the person back without the prompt; the max_age=0 beside it is satisfied
    assert "prompt" not in query_of(back["Location"])
    code = code_of(client.get(back["Location"]))
    assert "auth_time" in unverified_claims(exchange(client, code, verifier).json()["id_token"])


@pytest.mark.parametrize("max_age", ["abc", "-1", "1.5", "١"])
def test_a_malformed_max_age_is_ignored_never_a_500(client, alice, rp, max_age):
    password_login(client, alice.email)
    _, challenge = pkce_pair()
    response = client.get(authorize_url(challenge, max_age=max_age))
    assert response.status_code in (302, 400)


def test_someone_without_a_password_here_is_signed_out_and_sent_to_the_login_page(client, alice, rp):
    alice.set_unusable_password()
    alice.save()
    client.force_login(alice)
    _, challenge = pkce_pair()
    url = authorize_url(challenge, max_age="0")
    response = client.get(url)
    assert urlparse(response["Location"]).path == reverse("account_login")
    assert query_of(response["Location"])["next"] == url
    assert "_auth_user_id" not in client.session
