"""SCIM Groups of a tenant (RFC 7643 §4.2): members are users of the same tenant, never others.

A member id that is unknown or belongs to another tenant is refused (400 invalidValue) before
anything is linked; PATCH works on the members list and is then checked like a PUT."""

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.db.models.functions import Lower

from atrium_kit.models import Group, User
from atrium_kit.scim_adapters import (
    ScimError,
    Shape,
    bad,
    check_schemas,
    ci,
    iso,
    optional_string,
    required_string,
    tenant_for_write,
)
from atrium_kit.scim_filter import Field
from atrium_kit.scim_schemas import GROUP_URN, base_url

MAX_MEMBERS_PER_REQUEST = 10_000

GROUP_SHAPE = Shape(
    attrs={"displayname": "displayName", "externalid": "externalId", "members": "members"},
    multi=frozenset({"members"}),
    complex_single=frozenset(),
    subs={"members": {"value": "value", "type": "type", "display": "display", "$ref": "$ref"}},
)

GROUP_FIELDS = {
    "id": Field("scim_id", case_exact=True),
    "displayname": Field("display_name"),
    "externalid": Field("external_id", case_exact=True, nullable=True),
    "members.value": Field("members__scim_id", kind="reference", case_exact=True, nullable=True),
    "meta.created": Field("created_at", kind="datetime"),
    "meta.lastmodified": Field("updated_at", kind="datetime"),
}
GROUP_SORT = {
    "id": "pk", "displayname": Lower("display_name"), "externalid": "external_id",
    "meta.created": "created_at", "meta.lastmodified": "updated_at",
}  # fmt: skip


@dataclass
class GroupValues:
    display_name: str
    external_id: str | None
    member_ids: list  # SCIM ids of users, in the order sent, without duplicates


def group_values(body: dict, *, check_schema: bool) -> GroupValues:
    if not isinstance(body, dict):
        raise bad("The body must be a JSON object", "invalidSyntax")
    if check_schema:
        check_schemas(body, GROUP_URN)
    b = ci(body)
    members = b.get("members")
    if members is None:
        members = []
    if not isinstance(members, list) or not all(isinstance(m, dict) for m in members):
        raise bad('"members" must be a list of objects')
    if len(members) > MAX_MEMBERS_PER_REQUEST:
        raise bad(f"At most {MAX_MEMBERS_PER_REQUEST} members per request", "tooMany")
    ids: list[str] = []
    for member in map(ci, members):
        value = member.get("value")
        if not isinstance(value, str) or not value.strip():
            raise bad('Each of "members" needs a "value": the id of a User of this tenant')
        kind = member.get("type")
        if kind is not None and (not isinstance(kind, str) or kind.lower() != "user"):
            raise bad('Members are Users here ("type": "User"); groups do not nest')
        if value.strip() not in ids:
            ids.append(value.strip())
    return GroupValues(
        display_name=required_string(b, "displayName", 200),
        external_id=optional_string(b, "externalId", 254),
        member_ids=ids,
    )


def group_doc_writable(group: Group, members: list | None = None) -> dict:
    doc = {"displayName": group.display_name}
    if group.external_id:
        doc["externalId"] = group.external_id
    members = list(group.members.all()) if members is None else members
    if members:
        doc["members"] = [{"value": m.scim_id, "type": "User"} for m in members]
    return doc


def group_doc(group: Group, slug: str, *, with_members: bool = True) -> dict:
    base = base_url(slug)
    doc = {"schemas": [GROUP_URN], "id": str(group.scim_id), "displayName": group.display_name}
    if group.external_id:
        doc["externalId"] = group.external_id
    if with_members:
        members = sorted(group.members.all(), key=lambda u: u.pk)
        if members:
            doc["members"] = [
                {"value": m.scim_id, "display": m.display_name, "$ref": f"{base}/Users/{m.scim_id}",
                 "type": "User"}
                for m in members
            ]  # fmt: skip
    doc["meta"] = {
        "resourceType": "Group",
        "created": iso(group.created_at),
        "lastModified": iso(group.updated_at),
        "location": f"{base}/Groups/{group.scim_id}",
    }
    return doc


def _members_of_tenant(tenant_id, member_ids: list) -> list:
    """The users with these ids in this tenant; any other id is refused, never linked."""
    if not member_ids:
        return []
    found = {}
    if tenant_id is not None:
        for start in range(0, len(member_ids), 500):
            chunk = member_ids[start : start + 500]
            found.update({u.scim_id: u for u in User.objects.filter(tenant_id=tenant_id, scim_id__in=chunk)})
    missing = [m for m in member_ids if m not in found]
    if missing:
        shown = ", ".join(missing[:5]) + (" …" if len(missing) > 5 else "")
        raise bad(f"No user of this tenant has id {shown}")
    return [found[m] for m in member_ids]


def group_save(request, group: Group, values: GroupValues) -> Group:
    members = _members_of_tenant(request.scim_tenant.pk if request.scim_tenant else None, values.member_ids)
    group.display_name = values.display_name
    group.external_id = values.external_id
    try:
        with transaction.atomic():
            if group.pk is None:
                group.tenant = tenant_for_write(request)
            others = Group.objects.filter(tenant=group.tenant).exclude(pk=group.pk)
            clash = Q(display_name__iexact=group.display_name)
            if group.external_id:
                clash |= Q(external_id=group.external_id)
            if others.filter(clash).exists():
                raise IntegrityError("group uniqueness")
            group.save()
            group.members.set(members)
    except IntegrityError as exc:
        raise ScimError(
            409, "A group with this displayName or externalId exists in this tenant", "uniqueness"
        ) from exc
    return group
