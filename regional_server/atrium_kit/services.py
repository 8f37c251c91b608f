from importlib import import_module

from django.conf import settings
from django.db import transaction

from atrium_kit.entitlements import EntitlementsUpdate
from atrium_kit.models import LoginSession, Tenant, TenantEntitlements, User


def login_session_record(*, session_key: str, user: User, sid: str) -> LoginSession:
    session, _ = LoginSession.objects.update_or_create(
        session_key=session_key, defaults={"user": user, "sid": sid}
    )
    return session


@transaction.atomic
def user_upsert_local(
    *,
    tenant_slug: str,
    external_id: str,
    email: str,
    first_name: str = "",
    last_name: str = "",
    active: bool = True,
) -> User:
    """Create or update a user by (tenant, externalId); used by the operator command."""
    tenant, _ = Tenant.objects.get_or_create(slug=tenant_slug)
    user = User.objects.filter(tenant=tenant, scim_external_id=external_id).first() or User(
        tenant=tenant, scim_external_id=external_id
    )
    user.scim_username = email.lower()
    user.email = email.lower()
    user.first_name = first_name
    user.last_name = last_name
    user.is_active = active
    user.set_unusable_password()
    user.save()
    return user


def user_sessions_end(*, user: User) -> int:
    """End every session this user has in this region (both listeners share the database)."""
    store = import_module(settings.SESSION_ENGINE).SessionStore
    keys = list(LoginSession.objects.filter(user=user).values_list("session_key", flat=True))
    for key in keys:
        store(session_key=key).delete()
    LoginSession.objects.filter(user=user).delete()
    return len(keys)


@transaction.atomic
def tenant_entitlements_put(*, tenant_slug: str, update: EntitlementsUpdate) -> int:
    """Store Atrium's entitlements document unless a newer version is held already; creates
    the tenant on its first document. Returns the version held afterwards."""
    tenant, _ = Tenant.objects.get_or_create(slug=tenant_slug)
    held = TenantEntitlements.objects.select_for_update().filter(tenant=tenant).first()
    if held is None:
        TenantEntitlements.objects.create(tenant=tenant, version=update.version, document=update.document)
        return update.version
    if update.version < held.version:
        return held.version  # a late push of an older version: keep what is newer
    held.version, held.document = update.version, update.document
    held.save(update_fields=["version", "document", "updated_at"])
    return held.version
