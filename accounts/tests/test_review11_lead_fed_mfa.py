"""One account's trust in its IdP's MFA never stands in for Atrium's MFA where the person's
other accounts are concerned (rsso's open finding): for someone who is also a member elsewhere,
the IdP's `amr` does not skip Atrium's own code, and the session's `amr` has no `mfa` from it."""

import pytest
from allauth.account.models import Login

from accounts import sso
from accounts.models import Membership
from accounts.services import membership_add
from accounts.tests import test_sso_login as sso_tests
from conftest import make_user

pytestmark = pytest.mark.django_db
idp, globex = sso_tests.idp, sso_tests.globex  # fixtures: a discovery server, a second account
_connect, _sociallogin = sso_tests._connect, sso_tests._sociallogin


def _trusted_login(acme, idp_url, user):
    connection = _connect(acme, idp_url, trust=True)
    sociallogin = _sociallogin(connection, user.email, amr=["pwd", "mfa"])
    sociallogin.user = user
    return sociallogin, Login(user=user, signal_kwargs={"sociallogin": sociallogin})


def test_the_idps_mfa_counts_for_someone_of_that_account_only(acme, idp):
    dora = make_user("dora@acme.test")
    membership_add(account=acme, user=dora)
    sociallogin, login = _trusted_login(acme, idp.url, dora)
    assert sso.federated_mfa_trusted(login) is True
    assert sso.federated_state(sociallogin) == {"account": "acme", "mfa": True}


def test_the_idps_mfa_does_not_count_for_someone_also_in_another_account(acme, globex, idp):
    dora = make_user("dora@acme.test")
    membership_add(account=acme, user=dora)
    membership_add(account=globex, user=dora)
    sociallogin, login = _trusted_login(acme, idp.url, dora)
    assert sso.federated_mfa_trusted(login) is False  # Atrium asks its own code at login
    assert sso.federated_state(sociallogin) == {"account": "acme", "mfa": False}
    # a suspended membership elsewhere imposes nothing
    Membership.objects.filter(account=globex, user=dora).update(status=Membership.Status.SUSPENDED)
    assert sso.federated_mfa_trusted(login) is True
