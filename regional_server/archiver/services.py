"""Holds: placed and released by the tenant's admins only, on people and groups that Atrium's
directory lists for this region. The directory is read again for each write, so a hold is never
placed on someone Atrium no longer lists, nor by someone who is no longer an admin."""

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from archiver.models import Hold
from atrium_kit.directory import directory_client

ADMIN_ROLES = frozenset({"owner", "admin"})


@dataclass(frozen=True)
class Directory:
    """The tenant's people and groups in this region, as Atrium's directory lists them now."""

    users: list[dict]
    groups: list[dict]

    def person(self, user_id: str) -> dict | None:
        return next((u for u in self.users if u.get("id") == user_id), None)

    def group(self, group_id: str) -> dict | None:
        return next((g for g in self.groups if g.get("id") == group_id), None)

    def is_admin(self, user_id: str) -> bool:
        me = self.person(user_id)
        return bool(me and me.get("active", True) and me.get("role") in ADMIN_ROLES)


def directory_read(*, tenant_slug: str) -> Directory:
    """Raises DirectoryUnavailable (with a message) when Atrium cannot answer."""
    client = directory_client()
    return Directory(users=client.users(tenant_slug), groups=client.groups(tenant_slug))


def _label(user: dict) -> str:
    name, email = user.get("display_name") or "", user.get("email") or ""
    return f"{name} <{email}>" if name and email else name or email or str(user.get("id"))


def _require_admin(directory: Directory, actor) -> dict:
    if not directory.is_admin(actor.scim_external_id or ""):
        raise PermissionDenied("Only an owner or admin of the account may place or release holds.")
    return directory.person(actor.scim_external_id)


@transaction.atomic
def hold_place(*, tenant, actor, directory: Directory, kind: str, target_id: str, reason: str) -> Hold:
    me = _require_admin(directory, actor)
    if kind == Hold.Kind.PERSON:
        target = directory.person(target_id)
        label = _label(target) if target else ""
    elif kind == Hold.Kind.GROUP:
        target = directory.group(target_id)
        label = str(target.get("name") or target_id) if target else ""
    else:
        raise ValidationError("A hold is on a person or a group.", code="kind")
    if target is None:
        raise ValidationError("Atrium's directory lists no such person or group here.", code="unknown_target")
    if Hold.objects.filter(tenant=tenant, kind=kind, target_id=target_id, released_at__isnull=True).exists():
        raise ValidationError(f"{label} is on hold already.", code="duplicate")
    try:
        with transaction.atomic():
            return Hold.objects.create(
                tenant=tenant, kind=kind, target_id=target_id, target_label=label[:300], reason=reason,
                placed_by=actor, placed_by_label=_label(me)[:300],
            )  # fmt: skip
    except IntegrityError:  # a concurrent placement of the same hold won
        raise ValidationError(f"{label} is on hold already.", code="duplicate") from None


@transaction.atomic
def hold_release(*, hold: Hold, actor, directory: Directory) -> Hold:
    me = _require_admin(directory, actor)
    hold = Hold.objects.select_for_update().get(pk=hold.pk)
    if hold.released_at is None:
        hold.released_at = timezone.now()
        hold.released_by_label = _label(me)[:300]
        hold.save(update_fields=["released_at", "released_by_label"])
    return hold
