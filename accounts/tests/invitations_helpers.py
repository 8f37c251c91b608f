"""Shared set-up of the invitation tests (personas beyond alice/bob/carol, and links)."""

import re
import uuid

from django.core import signing

from accounts import invitations
from accounts.models import Account, Invitation, Membership
from accounts.services import membership_add
from conftest import make_user

LINK = re.compile(r"https?://[^/\s]+(/invite/\S+)")


def add_member(account: Account, email: str, role: str = Membership.Role.MEMBER) -> Membership:
    return membership_add(account=account, user=make_user(email), role=role)


def invite(account: Account, actor: Membership | None, email: str, **kwargs) -> Invitation:
    return invitations.invitation_create(account=account, actor=actor, email=email, **kwargs)


def link_path(message) -> str:
    """The /invite/… path in an invitation mail."""
    match = LINK.search(message.body)
    assert match, message.body
    return match.group(1)


def token_of_path(path: str) -> str:
    return path.removeprefix("/invite/").rstrip("/")


def signed_token_for(public_id: uuid.UUID, key: str = "x" * 43) -> str:
    """A correctly signed token whose key is not the invitation's (an old or made-up link)."""
    return signing.Signer(salt=invitations.SIGNING_SALT).sign(f"{public_id.hex}.{key}")
