"""What each role may do in its account: one table, read by services (which enforce it) and by
views and templates (which only decide what to show). Tested as a table in
accounts/tests/test_permissions.py.

Roles, as customer admins of Okta / Auth0 Organizations know them:
- owner: everything, including owners, ownership transfer and closing the account;
- admin: people, invitations, groups and region access (not owners, not closing);
- billing: plans, seats and invoices, and the member directory;
- read_only: sees what admins see (members with sync state, groups, audit log), changes nothing;
- member: the member directory and the groups they can see.
Only an active membership has any permission.
"""

from django.core.exceptions import PermissionDenied

from accounts.models import Membership

Role = Membership.Role

OWNER = frozenset({Role.OWNER})
ADMINS = frozenset({Role.OWNER, Role.ADMIN})
OBSERVERS = frozenset({Role.OWNER, Role.ADMIN, Role.READ_ONLY})
BILLING = frozenset({Role.OWNER, Role.BILLING})
EVERYONE = frozenset(Role)

PERMISSIONS: dict[str, frozenset[str]] = {
    # the account itself
    "account.view": EVERYONE,
    "account.rename": ADMINS,
    "account.close": OWNER,
    # people
    "members.directory": EVERYONE,  # names, emails, roles of active members
    "members.view_admin": OBSERVERS,  # status, sync state per region, errors, invitations
    "members.invite": ADMINS,
    "members.manage": ADMINS,  # rename, suspend, reactivate, remove, region access, role (not owner)
    "members.manage_owners": OWNER,  # make, demote, suspend or remove an owner; transfer ownership
    "members.sign_out": ADMINS,  # end every session of a member (portal, tokens, regions)
    "sync.retry": ADMINS,
    # groups
    "groups.view": EVERYONE,
    "groups.manage": ADMINS,
    # connected SaaS apps (accounts/connected_apps.py): members open the ones enabled for them
    "apps.manage": ADMINS,  # enable, disable, choose who may open each
    # the account security policy (accounts/security_policy.py): MFA, sessions, passwords, SSO-only
    "security.manage": ADMINS,
    # customer SSO: claimed domains and the account's IdP (accounts/sso.py)
    "sso.manage": ADMINS,
    # audit log
    "audit.view": OBSERVERS,
    # commerce: what the account owns (products/api.py); owners, admins, billing and read-only
    "entitlements.view": frozenset({Role.OWNER, Role.ADMIN, Role.BILLING, Role.READ_ONLY}),
    # commerce (billing issue)
    "billing.view": BILLING,  # plans, seats, invoices: owner and billing only (issue 10)
    "billing.manage": BILLING,
}

ACTIONS = frozenset(PERMISSIONS)


def can(membership: Membership | None, action: str) -> bool:
    """Whether this membership may do `action` in its account now."""
    if action not in PERMISSIONS:
        raise KeyError(f"Unknown action {action!r}; add it to accounts.permissions.PERMISSIONS")
    if membership is None or membership.status != Membership.Status.ACTIVE:
        return False
    return membership.role in PERMISSIONS[action]


def require(membership: Membership | None, action: str) -> None:
    """Raise PermissionDenied (403) unless the membership may do `action`."""
    if not can(membership, action):
        role = membership.get_role_display().lower() if membership else "no membership"
        raise PermissionDenied(f"Your role ({role}) does not allow this ({action}).")


def allowed_actions(membership: Membership | None) -> frozenset[str]:
    """Every action this membership may do: templates test `"members.manage" in perms`."""
    return frozenset(action for action in PERMISSIONS if can(membership, action))
