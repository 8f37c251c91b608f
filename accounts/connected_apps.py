"""Connected SaaS apps: third-party apps (a wiki, a chat) that sign people in with Atrium.

Staff register an app (`connected_app_register`): it becomes an OIDC client of Atrium's identity
provider (confidential, authorization code with PKCE, scopes openid email profile) and gets a
launch URL for the portal's app launcher. An account admin ("apps.manage") enables the apps the
company uses (`app_enable`) for every member or for members of chosen groups; the authorize step
(accounts/oidc.py) refuses anyone whom no active membership grants the app. Every write runs in
its own transaction and is audited; the reads keep a constant number of queries.
"""

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from allauth.idp.oidc.adapter import get_adapter
from allauth.idp.oidc.models import Client
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Prefetch, Q
from django.db.models.functions import Lower
from django.http import Http404
from django.utils.text import slugify

from accounts import permissions
from accounts.audit import audit_record
from accounts.locks import account_lock
from accounts.models import Account, AppEnablement, ConnectedApp, Group, GroupMember, Membership, User

APP_SCOPES = ["openid", "email", "profile"]
CLIENT_ID_PREFIX = "app-"
NAME_MAX = 100
DESCRIPTION_MAX = 500
ICON_MAX = 200
URL_MAX = 500
REDIRECT_URIS_MAX = 10
ADMINS_NAMED_PER_ACCOUNT = 3

_http_url = URLValidator(schemes=["http", "https"])


# --- staff: the registry of apps ----------------------------------------------------------------
@dataclass(frozen=True)
class RegisteredApp:
    app: ConnectedApp
    # Shown once to staff; only its keyed hash is stored (accounts/client_secrets.py).
    client_secret: str


def _clean_text(value: str, *, field: str, limit: int, required: bool = False) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ValidationError({field: "This field is required."})
    if len(value) > limit:
        raise ValidationError({field: f"At most {limit} characters."})
    return value


def _clean_url(value: str, *, field: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError({field: "This field is required."})
    if len(value) > URL_MAX:
        raise ValidationError({field: f"At most {URL_MAX} characters."})
    try:
        _http_url(value)
    except ValidationError as exc:
        raise ValidationError({field: f"{value} is not an http(s) URL."}) from exc
    return value


def redirect_uris_clean(uris: list[str]) -> list[str]:
    """Absolute http(s) URLs without a fragment (RFC 6749 §3.1.2), each once."""
    cleaned: list[str] = []
    for uri in uris:
        uri = _clean_url(uri, field="redirect_uris")
        if urlsplit(uri).fragment:
            raise ValidationError({"redirect_uris": f"{uri}: a redirect URI has no fragment (#…)."})
        if uri not in cleaned:
            cleaned.append(uri)
    if not cleaned:
        raise ValidationError({"redirect_uris": "An app needs at least one redirect URI."})
    if len(cleaned) > REDIRECT_URIS_MAX:
        raise ValidationError({"redirect_uris": f"At most {REDIRECT_URIS_MAX} redirect URIs."})
    return cleaned


def _refuse_taken(name: str, *, exclude_pk: int | None = None) -> None:
    if ConnectedApp.objects.filter(name__iexact=name).exclude(pk=exclude_pk).exists():
        raise ValidationError({"name": f"An app named {name} is already registered."})


def connected_app_name_taken(*, name: str, exclude_pk: int | None = None) -> bool:
    return ConnectedApp.objects.filter(name__iexact=(name or "").strip()).exclude(pk=exclude_pk).exists()


def _new_client_id(name: str) -> str:
    # Readable in logs and the allauth admin; the prefix keeps app clients apart from `region-*`
    # and the provisioner, which are never connected apps.
    base = CLIENT_ID_PREFIX + (re.sub(r"[^a-z0-9-]", "", slugify(name))[:40].strip("-") or "client")
    client_id, n = base, 1
    while Client.objects.filter(id=client_id).exists():
        n += 1
        client_id = f"{base}-{n}"
    return client_id


def _configure_client(client: Client, *, name: str, redirect_uris: list[str]) -> None:
    client.name = name[:100]
    client.type = Client.Type.CONFIDENTIAL
    client.set_grant_types([Client.GrantType.AUTHORIZATION_CODE])
    client.response_types = "code"
    client.set_scopes(APP_SCOPES)
    client.set_default_scopes(APP_SCOPES)
    client.set_redirect_uris(redirect_uris)
    # Staff vetted the app and an account admin chose to enable it for the company: that is the
    # consent; members are not asked again on every sign-in.
    client.skip_consent = True


def _app_state(app: ConnectedApp) -> dict:
    return {
        "name": app.name,
        "description": app.description,
        "icon": app.icon,
        "launch_url": app.launch_url,
        "redirect_uris": app.client.get_redirect_uris(),
    }


@transaction.atomic
def connected_app_register(
    *,
    name: str,
    launch_url: str,
    redirect_uris: list[str],
    description: str = "",
    icon: str = "",
    audit_actor: User | None = None,
) -> RegisteredApp:
    """Register a third-party app and its OIDC client; returns the client secret (shown once)."""
    name = _clean_text(name, field="name", limit=NAME_MAX, required=True)
    description = _clean_text(description, field="description", limit=DESCRIPTION_MAX)
    icon = _clean_text(icon, field="icon", limit=ICON_MAX)
    launch_url = _clean_url(launch_url, field="launch_url")
    redirect_uris = redirect_uris_clean(redirect_uris)
    _refuse_taken(name)
    client = Client(id=_new_client_id(name))
    _configure_client(client, name=name, redirect_uris=redirect_uris)
    secret = get_adapter().generate_client_secret()
    client.set_secret(secret)
    client.data = {}  # no RFC 8707 audiences: an app's tokens never reach a region
    try:
        with transaction.atomic():
            client.save(force_insert=True)
            app = ConnectedApp.objects.create(
                name=name, description=description, icon=icon, launch_url=launch_url, client=client
            )
    except IntegrityError as exc:  # a concurrent registration of the same name or client id
        raise ValidationError({"name": f"An app named {name} is already registered."}) from exc
    audit_record(
        action="connected_app.register", account=None, actor=audit_actor, target_type="connected_app",
        target_id=app.public_id, target_label=app.name, after={**_app_state(app), "client_id": client.id},
    )  # fmt: skip
    return RegisteredApp(app=app, client_secret=secret)


@transaction.atomic
def connected_app_update(
    *,
    app: ConnectedApp,
    name: str,
    launch_url: str,
    redirect_uris: list[str],
    description: str = "",
    icon: str = "",
    audit_actor: User | None = None,
) -> ConnectedApp:
    app = ConnectedApp.objects.select_for_update().select_related("client").get(pk=app.pk)
    before = _app_state(app)
    name = _clean_text(name, field="name", limit=NAME_MAX, required=True)
    _refuse_taken(name, exclude_pk=app.pk)
    app.name = name
    app.description = _clean_text(description, field="description", limit=DESCRIPTION_MAX)
    app.icon = _clean_text(icon, field="icon", limit=ICON_MAX)
    app.launch_url = _clean_url(launch_url, field="launch_url")
    _configure_client(app.client, name=name, redirect_uris=redirect_uris_clean(redirect_uris))
    after = _app_state(app)
    changed = [key for key in after if after[key] != before[key]]
    if not changed:
        return app
    app.client.save()
    app.save()
    audit_record(
        action="connected_app.update", account=None, actor=audit_actor, target_type="connected_app",
        target_id=app.public_id, target_label=app.name,
        before={key: before[key] for key in changed}, after={key: after[key] for key in changed},
    )  # fmt: skip
    return app


@transaction.atomic
def connected_app_secret_rotate(*, app: ConnectedApp, audit_actor: User | None = None) -> str:
    """A new client secret (returned once); the old one stops working at once."""
    client = Client.objects.select_for_update().get(pk=app.client_id)
    secret = get_adapter().generate_client_secret()
    client.set_secret(secret)
    client.save(update_fields=["secret"])
    audit_record(
        action="connected_app.secret_rotate", account=None, actor=audit_actor,
        target_type="connected_app", target_id=app.public_id, target_label=app.name,
    )  # fmt: skip
    return secret


@transaction.atomic
def connected_app_delete(*, app: ConnectedApp, audit_actor: User | None = None) -> None:
    """Unregister: the OIDC client goes, and with it its tokens, the app and every enablement."""
    app = ConnectedApp.objects.select_for_update().filter(pk=app.pk).first()
    if app is None:
        return
    accounts = list(AppEnablement.objects.filter(app=app).values_list("account__slug", flat=True))
    audit_record(
        action="connected_app.delete", account=None, actor=audit_actor, target_type="connected_app",
        target_id=app.public_id, target_label=app.name,
        before={"client_id": app.client_id, "enabled_for": sorted(accounts)},
    )  # fmt: skip
    Client.objects.filter(pk=app.client_id).delete()


# --- account admins: which apps the company uses, and for whom ---------------------------------
def _check(actor: Membership | None, account: Account) -> None:
    """`actor` None: an operator or a command acting for the account (no role to check)."""
    if actor is None:
        return
    if actor.account_id != account.pk:
        raise permissions.PermissionDenied("Not a member of this account.")
    permissions.require(actor, "apps.manage")


def _clean_audience(account: Account, audience: str, groups) -> tuple[str, list[Group]]:
    if audience not in AppEnablement.Audience.values:
        raise ValidationError({"audience": "Choose every member or members of chosen groups."})
    if audience == AppEnablement.Audience.EVERYONE:
        return audience, []
    ids = {group.pk if isinstance(group, Group) else int(group) for group in groups or []}
    chosen = list(Group.objects.filter(account=account, pk__in=ids))
    # Another account's group is refused as if it did not exist: nothing about it is revealed.
    if len(chosen) != len(ids):
        raise ValidationError({"groups": "Choose groups of this account."})
    if not chosen:
        raise ValidationError({"groups": "Choose at least one group."})
    return audience, sorted(chosen, key=lambda g: g.name.lower())


def _audience_state(enablement: AppEnablement, groups: list[Group]) -> dict:
    return {"audience": enablement.audience, "groups": [group.name for group in groups]}


def _actor_user(actor: Membership | None, audit_actor: User | None) -> User | None:
    return actor.user if actor is not None else audit_actor


@transaction.atomic
def app_enable(
    *,
    account: Account,
    app: ConnectedApp,
    actor: Membership | None,
    audience: str = AppEnablement.Audience.EVERYONE,
    groups=(),
    audit_actor: User | None = None,
) -> AppEnablement:
    account = account_lock(account.pk)
    _check(actor, account)
    if account.is_closed:
        raise ValidationError(f"{account.name} is closed.", code="closed")
    audience, chosen = _clean_audience(account, audience, groups)
    if AppEnablement.objects.filter(account=account, app=app).exists():
        raise ValidationError(f"{app.name} is already enabled for {account.name}.", code="exists")
    enablement = AppEnablement.objects.create(
        account=account, app=app, audience=audience, enabled_by=_actor_user(actor, audit_actor)
    )
    enablement.groups.set(chosen)
    audit_record(
        action="app.enable", account=account, actor=_actor_user(actor, audit_actor),
        target_type="connected_app", target_id=app.public_id, target_label=app.name,
        after=_audience_state(enablement, chosen),
    )  # fmt: skip
    return enablement


def _lock_enablement(enablement: AppEnablement, account: Account) -> AppEnablement:
    locked = (
        AppEnablement.objects.select_for_update(of=("self",))
        .select_related("app")
        .filter(pk=enablement.pk, account=account)
        .first()
    )
    if locked is None:
        raise ValidationError("This app is no longer enabled.", code="gone")
    locked.account = account
    return locked


@transaction.atomic
def app_audience_set(
    *,
    enablement: AppEnablement,
    actor: Membership | None,
    audience: str,
    groups=(),
    audit_actor: User | None = None,
) -> AppEnablement:
    account = account_lock(enablement.account_id)
    _check(actor, account)
    enablement = _lock_enablement(enablement, account)
    before = _audience_state(enablement, sorted(enablement.groups.all(), key=lambda g: g.name.lower()))
    audience, chosen = _clean_audience(account, audience, groups)
    enablement.audience = audience
    after = _audience_state(enablement, chosen)
    if after == before:
        return enablement
    enablement.save(update_fields=["audience"])
    enablement.groups.set(chosen)
    audit_record(
        action="app.audience", account=account, actor=_actor_user(actor, audit_actor),
        target_type="connected_app", target_id=enablement.app.public_id, target_label=enablement.app.name,
        before=before, after=after,
    )  # fmt: skip
    return enablement


@transaction.atomic
def app_disable(
    *, enablement: AppEnablement, actor: Membership | None, audit_actor: User | None = None
) -> None:
    """From now on Atrium refuses to sign this account's members in to the app (sessions the app
    already holds are the app's own; its next sign-in through Atrium is refused)."""
    account = account_lock(enablement.account_id)
    _check(actor, account)
    enablement = _lock_enablement(enablement, account)
    before = _audience_state(enablement, sorted(enablement.groups.all(), key=lambda g: g.name.lower()))
    audit_record(
        action="app.disable", account=account, actor=_actor_user(actor, audit_actor),
        target_type="connected_app", target_id=enablement.app.public_id, target_label=enablement.app.name,
        before=before,
    )  # fmt: skip
    enablement.delete()


# --- reads ---------------------------------------------------------------------------------------
def _grants_membership(membership_filter: dict) -> Q:
    """An enablement (the outer row) admits a membership matching `membership_filter`: audience
    everyone, or the membership is in one of its groups."""
    in_group = GroupMember.objects.filter(group__app_enablements=OuterRef("pk"), **membership_filter)
    return Q(audience=AppEnablement.Audience.EVERYONE) | Q(Exists(in_group))


def apps_launchable(*, membership: Membership) -> list[ConnectedApp]:
    """The apps this member may open from this account: one query."""
    if not membership.is_active:
        return []
    enabled = AppEnablement.objects.filter(app=OuterRef("pk"), account_id=membership.account_id).filter(
        _grants_membership({"membership": membership})
    )
    return list(ConnectedApp.objects.filter(Exists(enabled)).order_by("name"))


def app_open_allowed(*, user: User, app: ConnectedApp) -> bool:
    """Whether ANY active membership of the person, in an open account, is granted the app."""
    if not user.is_active:
        return False
    active = {"membership__user": user, "membership__status": Membership.Status.ACTIVE,
              "membership__account": OuterRef("account")}  # fmt: skip
    member = Membership.objects.filter(
        account=OuterRef("account"), user=user, status=Membership.Status.ACTIVE
    )
    return (
        AppEnablement.objects.filter(app=app, account__closed_at__isnull=True)
        .filter(Exists(member))
        .filter(_grants_membership(active))
        .exists()
    )


def connected_app_for_client(*, client_id: str) -> ConnectedApp | None:
    if not client_id or len(client_id) > 100:
        return None
    return ConnectedApp.objects.select_related("client").filter(client_id=client_id).first()


@dataclass(frozen=True)
class AdminsToAsk:
    account: Account
    admins: list[User]
    # The person may enable apps there themselves.
    you_manage: bool


def admins_to_ask(*, user: User) -> list[AdminsToAsk]:
    """For the refusal page: the owners and admins of each of the person's open accounts (their
    own active memberships only, so nobody learns of accounts they are not in); two queries."""
    mine = list(
        Membership.objects.filter(user=user, status=Membership.Status.ACTIVE, account__closed_at__isnull=True)
        .select_related("account")
        .order_by("account__name")
    )
    admins = (
        Membership.objects.filter(
            account__in=[m.account_id for m in mine],
            status=Membership.Status.ACTIVE,
            role__in=[Membership.Role.OWNER, Membership.Role.ADMIN],
        )
        .exclude(user=user)
        .select_related("user")
        .order_by("role", "user__email")
    )
    by_account: dict[int, list[User]] = {}
    for admin in admins:
        by_account.setdefault(admin.account_id, []).append(admin.user)
    return [
        AdminsToAsk(
            account=m.account,
            admins=by_account.get(m.account_id, [])[:ADMINS_NAMED_PER_ACCOUNT],
            you_manage=permissions.can(m, "apps.manage"),
        )
        for m in mine
    ]


@dataclass(frozen=True)
class AppRow:
    """One registered app on an account's manage page, with its enablement there (or None)."""

    app: ConnectedApp
    enablement: AppEnablement | None


def app_rows_of_account(*, account: Account) -> list[AppRow]:
    """Every registered app, and how this account uses it: three queries whatever the numbers."""
    mine = AppEnablement.objects.filter(account=account).prefetch_related(
        Prefetch("groups", queryset=Group.objects.order_by(Lower("name")))
    )
    apps = ConnectedApp.objects.order_by("name").prefetch_related(
        Prefetch("enablements", queryset=mine, to_attr="here")
    )
    return [AppRow(app=app, enablement=app.here[0] if app.here else None) for app in apps]


def enablement_of_account(*, account: Account, enablement_id: int) -> AppEnablement:
    """An enablement of this account, or 404 (another account's is indistinguishable)."""
    enablement = (
        AppEnablement.objects.select_related("app", "account")
        .filter(pk=enablement_id, account=account)
        .first()
    )
    if enablement is None:
        raise Http404("No such app enablement")
    return enablement


def connected_app_get(*, app_id: int) -> ConnectedApp:
    app = ConnectedApp.objects.filter(pk=app_id).first()
    if app is None:
        raise Http404("No such app")
    return app


def apps_home_panel(request, membership: Membership, perms: frozenset[str]) -> dict | None:
    """The account home's app launcher; hidden when there is nothing to open or to enable."""
    apps = apps_launchable(membership=membership)
    can_manage = "apps.manage" in perms
    if not apps and not can_manage:
        return None
    return {"apps": apps, "can_manage": can_manage, "account": membership.account}
