"""SCIM resources of a region: what a User looks like on the wire, how a body is checked, and
PATCH (RFC 7644 §3.5.2) applied to the resource's JSON and then checked exactly like a PUT body.

Writes happen inside a savepoint that also creates the tenant on its first successful write, so a
refused body (400/409) leaves no trace, not even a tenant."""

import copy
import datetime as dt
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from atrium_kit import services
from atrium_kit.models import Group, Tenant, User
from atrium_kit.scim_filter import Field, ScimFilterError, matches, parse_patch_path
from atrium_kit.scim_schemas import USER_URN, base_url


class ScimError(Exception):
    """Answered as a SCIM Error body (RFC 7644 §3.12)."""

    def __init__(self, status: int, detail: str, scim_type: str | None = None):
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.scim_type = scim_type


def bad(detail: str, scim_type: str = "invalidValue") -> ScimError:
    return ScimError(400, detail, scim_type)


# --- shared checks -----------------------------------------------------------------------------
def ci(d: dict) -> dict:
    """Attribute names are case-insensitive (RFC 7643 §2.1): index a body by lower-cased name."""
    return {str(k).lower(): v for k, v in d.items()}


def check_schemas(body: dict, urn: str) -> None:
    schemas = body.get("schemas")
    if not isinstance(schemas, list) or not all(isinstance(s, str) for s in schemas):
        raise bad('"schemas" must be a list of schema URNs', "invalidSyntax")
    if urn not in schemas:
        raise bad(f'"schemas" must contain {urn}', "invalidSyntax")
    unknown = [s for s in schemas if s != urn]
    if unknown:
        raise bad(f"Unsupported schema(s) {unknown}: see /Schemas", "invalidSyntax")


def optional_string(body: dict, key: str, max_length: int, label: str | None = None) -> str | None:
    value = body.get(key.lower())
    if value is None:
        return None
    if not isinstance(value, str):
        raise bad(f'"{label or key}" must be a string')
    value = value.strip()
    if len(value) > max_length:
        raise bad(f'"{label or key}" is longer than {max_length} characters')
    return value or None


def required_string(body: dict, key: str, max_length: int) -> str:
    value = optional_string(body, key, max_length)
    if value is None:
        raise bad(f'"{key}" is required and must be a non-empty string')
    return value


def tenant_for_write(request) -> Tenant:
    """The request's tenant, created now if this is its first write (inside the write's savepoint)."""
    if request.scim_tenant is None:
        request.scim_tenant, _ = Tenant.objects.get_or_create(slug=request.scim_tenant_slug)
    return request.scim_tenant


def iso(moment) -> str:
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


# --- PATCH -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Shape:
    """The attributes PATCH may touch on a resource (canonical names by lower-cased name)."""

    attrs: dict  # lower -> canonical
    multi: frozenset  # canonical multi-valued attributes
    complex_single: frozenset  # canonical complex single-valued attributes
    subs: dict = field(default_factory=dict)  # canonical attr -> {lower sub -> canonical sub}
    read_only: frozenset = frozenset({"id", "meta", "schemas"})


def apply_patch(doc: dict, body, shape: Shape) -> dict:
    """Apply a PatchOp body to a copy of `doc` (the resource's writable attributes)."""
    if not isinstance(body, dict):
        raise bad("The body must be a JSON object", "invalidSyntax")
    if body.get("schemas") != ["urn:ietf:params:scim:api:messages:2.0:PatchOp"]:
        raise bad('"schemas" must be ["urn:ietf:params:scim:api:messages:2.0:PatchOp"]', "invalidSyntax")
    operations = body.get("Operations")
    if not isinstance(operations, list) or not operations:
        raise bad('"Operations" must be a non-empty list', "invalidSyntax")
    if len(operations) > 1000:
        raise bad("At most 1000 operations per request", "invalidSyntax")
    doc = copy.deepcopy(doc)
    for operation in operations:
        if not isinstance(operation, dict):
            raise bad("Each operation must be an object", "invalidSyntax")
        op_ci = ci(operation)
        op = op_ci.get("op")
        if not isinstance(op, str) or op.lower() not in {"add", "remove", "replace"}:
            raise bad('"op" must be add, remove or replace', "invalidSyntax")
        _apply_one(doc, op.lower(), op_ci.get("path"), op_ci.get("value"), "value" in op_ci, shape)
    return doc


def _apply_one(doc: dict, op: str, raw_path, value, has_value: bool, shape: Shape) -> None:
    if raw_path is None:
        if op == "remove":
            raise bad('"remove" needs a "path"', "noTarget")
        if not isinstance(value, dict):
            raise bad(f'"{op}" without "path" needs an object of attributes as "value"', "invalidValue")
        for key, item in value.items():
            if str(key).lower() == "schemas":
                continue
            _apply_one(doc, op, str(key), item, True, shape)
        return
    try:
        path = parse_patch_path(raw_path)
    except ScimFilterError as exc:
        raise bad(str(exc), "invalidPath") from exc
    if path.path.attr in shape.read_only or path.path.attr not in shape.attrs:
        if path.path.attr in shape.read_only or path.path.attr in {"groups"}:
            raise bad(f'"{raw_path}" is read-only', "mutability")
        raise bad(f'No attribute "{raw_path}" on this resource', "invalidPath")
    attr = shape.attrs[path.path.attr]
    sub = path.sub or path.path.sub
    if sub is not None:
        subs = shape.subs.get(attr, {})
        if sub not in subs:
            raise bad(f'No attribute "{raw_path}" on this resource', "invalidPath")
        sub = subs[sub]
    if op != "remove" and not has_value:
        raise bad(f'"{op}" needs a "value"', "invalidValue")
    if path.value_filter is not None:
        _apply_filtered(doc, op, attr, path.value_filter, sub, value, shape, raw_path)
    elif sub is not None and attr in shape.multi:
        for item in doc.get(attr) or []:
            if isinstance(item, dict):
                _set_or_pop(item, sub, op, value)
    elif sub is not None:
        holder = doc.get(attr) if isinstance(doc.get(attr), dict) else {}
        _set_or_pop(holder, sub, op, value)
        doc[attr] = holder
    elif op == "remove":
        doc.pop(attr, None)
    elif attr in shape.multi:
        values = value if isinstance(value, list) else [value]
        if op == "replace":
            doc[attr] = values
        else:
            current = doc.get(attr) or []
            doc[attr] = current + [v for v in values if v not in current]
    elif attr in shape.complex_single:
        if not isinstance(value, dict):
            raise bad(f'"{attr}" is complex: its value must be an object')
        current = doc.get(attr) if isinstance(doc.get(attr), dict) else {}
        merged = {k.lower(): (k, v) for k, v in current.items()}
        merged.update({str(k).lower(): (k, v) for k, v in value.items()})
        doc[attr] = dict(merged.values())
    else:
        doc[attr] = value


def _set_or_pop(holder: dict, sub: str, op: str, value) -> None:
    for key in [k for k in holder if k.lower() == sub.lower()]:
        del holder[key]
    if op != "remove":
        holder[sub] = value


def _apply_filtered(doc, op, attr, value_filter, sub, value, shape: Shape, raw_path) -> None:
    if attr not in shape.multi:
        raise bad(f'A value filter needs a multi-valued attribute: "{raw_path}"', "invalidPath")
    items = doc.get(attr) or []
    try:
        hits = [i for i, item in enumerate(items) if isinstance(item, dict) and matches(value_filter, item)]
    except ScimFilterError as exc:
        raise bad(str(exc), "invalidFilter") from exc
    if op == "remove":
        if sub is None:
            doc[attr] = [item for i, item in enumerate(items) if i not in hits]
        else:
            for i in hits:
                _set_or_pop(items[i], sub, "remove", None)
        return
    if not hits:
        # RFC 7644 §3.5.2.3: a value filter that matches nothing is a noTarget failure.
        raise bad(f'No value of "{attr}" matches "{raw_path}"', "noTarget")
    for i in hits:
        if sub is not None:
            _set_or_pop(items[i], sub, op, value)
        elif not isinstance(value, dict):
            raise bad(f'Values of "{attr}" are objects')
        elif op == "replace":
            items[i] = value
        else:
            items[i] = {**items[i], **value}
    doc[attr] = items


# --- Users -------------------------------------------------------------------------------------
USER_SHAPE = Shape(
    attrs={"username": "userName", "name": "name", "displayname": "displayName", "emails": "emails",
           "active": "active", "externalid": "externalId"},
    multi=frozenset({"emails"}),
    complex_single=frozenset({"name"}),
    subs={"name": {"givenname": "givenName", "familyname": "familyName", "formatted": "formatted"},
          "emails": {"value": "value", "type": "type", "primary": "primary"}},
)  # fmt: skip

USER_FIELDS = {
    "id": Field("scim_id", case_exact=True),
    "username": Field("scim_username"),
    "externalid": Field("scim_external_id", case_exact=True, nullable=True),
    "name.givenname": Field("first_name"),
    "name.familyname": Field("last_name"),
    "name.formatted": Field("name_formatted"),
    "givenname": Field("first_name"),
    "familyname": Field("last_name"),
    "displayname": Field("scim_display_name"),
    "emails.value": Field("emails_search", multi_text=True),
    "active": Field("is_active", kind="boolean"),
    "groups.value": Field("member_of__scim_id", kind="reference", case_exact=True),
    "groups.display": Field("member_of__display_name"),
    "meta.created": Field("created_at", kind="datetime"),
    "meta.lastmodified": Field("updated_at", kind="datetime"),
}
USER_SORT = {
    "id": "pk", "username": Lower("scim_username"), "externalid": "scim_external_id",
    "name.givenname": Lower("first_name"), "name.familyname": Lower("last_name"),
    "displayname": Lower("scim_display_name"), "emails": Lower("email"), "emails.value": Lower("email"),
    "active": "is_active", "meta.created": "created_at", "meta.lastmodified": "updated_at",
}  # fmt: skip


@dataclass
class UserValues:
    user_name: str
    external_id: str | None
    given_name: str
    family_name: str
    formatted: str
    display_name: str
    emails: list
    active: bool


def user_values(body: dict, *, check_schema: bool) -> UserValues:
    """Check a User body (POST, PUT, or the result of a PATCH) and return what to store."""
    if not isinstance(body, dict):
        raise bad("The body must be a JSON object", "invalidSyntax")
    if check_schema:
        check_schemas(body, USER_URN)
    b = ci(body)
    name = b.get("name")
    if name is None:
        name = {}
    if not isinstance(name, dict):
        raise bad('"name" must be an object')
    name = ci(name)
    active = b.get("active")
    if active is not None and not isinstance(active, bool):
        raise bad('"active" must be true or false')
    return UserValues(
        user_name=required_string(b, "userName", 254),
        external_id=optional_string(b, "externalId", 254),
        given_name=optional_string(name, "givenName", 150, "name.givenName") or "",
        family_name=optional_string(name, "familyName", 150, "name.familyName") or "",
        formatted=optional_string(name, "formatted", 300, "name.formatted") or "",
        display_name=optional_string(b, "displayName", 300) or "",
        emails=_emails(b.get("emails")),
        active=True if active is None else active,
    )


def _emails(raw) -> list:
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(e, dict) for e in raw):
        raise bad('"emails" must be a list of objects')
    if len(raw) > 20:
        raise bad('At most 20 "emails"')
    emails = []
    for entry in map(ci, raw):
        value = entry.get("value")
        if not isinstance(value, str) or not value.strip() or len(value.strip()) > 254 or "\n" in value:
            raise bad('Each of "emails" needs a "value": a string of at most 254 characters')
        email = {"value": value.strip()}
        kind = entry.get("type")
        if kind is not None:
            if not isinstance(kind, str) or len(kind) > 50:
                raise bad('"emails.type" must be a string')
            email["type"] = kind
        primary = entry.get("primary")
        if primary is not None:
            if not isinstance(primary, bool):
                raise bad('"emails.primary" must be true or false')
            email["primary"] = primary
        emails.append(email)
    if sum(1 for e in emails if e.get("primary")) > 1:
        raise bad('At most one of "emails" may be primary')
    return emails


def user_doc_writable(user: User) -> dict:
    """The writable attributes as the client sees them (what PATCH starts from)."""
    doc = {"userName": user.scim_username, "active": user.is_active, "emails": copy.deepcopy(user.emails)}
    name = {
        k: v
        for k, v in (("givenName", user.first_name), ("familyName", user.last_name),
                     ("formatted", user.name_formatted))
        if v
    }  # fmt: skip
    if name:
        doc["name"] = name
    if user.scim_display_name:
        doc["displayName"] = user.scim_display_name
    if user.scim_external_id:
        doc["externalId"] = user.scim_external_id
    if not doc["emails"]:
        del doc["emails"]
    return doc


def user_doc(user: User, slug: str, *, with_groups: bool = True) -> dict:
    location = f"{base_url(slug)}/Users/{user.scim_id}"
    doc = {"schemas": [USER_URN], "id": user.scim_id, **user_doc_writable(user)}
    if with_groups:
        groups = sorted(user.member_of.all(), key=lambda g: g.display_name.lower())
        if groups:
            doc["groups"] = [
                {"value": str(g.scim_id), "display": g.display_name,
                 "$ref": f"{base_url(slug)}/Groups/{g.scim_id}", "type": "direct"}
                for g in groups
            ]  # fmt: skip
    doc["meta"] = {
        "resourceType": "User",
        "created": iso(user.created_at),
        "lastModified": iso(user.updated_at),
        "location": location,
    }
    return doc


def user_save(request, user: User, values: UserValues) -> User:
    """Store checked values; a clash on userName or externalId in the tenant is a 409."""
    was_active = user.is_active if user.pk else True
    user.scim_username = values.user_name
    user.scim_external_id = values.external_id
    user.first_name, user.last_name = values.given_name, values.family_name
    user.name_formatted, user.scim_display_name = values.formatted, values.display_name
    user.emails = values.emails
    user.emails_search = "".join(f"\n{e['value'].lower()}" for e in values.emails) + (
        "\n" if values.emails else ""
    )
    primary = next(
        (e for e in values.emails if e.get("primary")), values.emails[0] if values.emails else None
    )
    user.email = primary["value"] if primary else (values.user_name if "@" in values.user_name else "")
    user.is_active = values.active
    try:
        with transaction.atomic():
            if user.pk is None:
                user.tenant = tenant_for_write(request)
                user.set_unusable_password()
            _check_user_unique(user)
            user.save()
    except IntegrityError as exc:
        raise ScimError(
            409, "A user with this userName or externalId exists in this tenant", "uniqueness"
        ) from exc
    if was_active and not user.is_active:
        # Suspended: the person's sessions here end now, not at expiry.
        services.user_sessions_end(user=user)
    return user


def _check_user_unique(user: User) -> None:
    others = User.objects.filter(tenant=user.tenant).exclude(pk=user.pk)
    clash = Q(scim_username__iexact=user.scim_username)
    if user.scim_external_id:
        clash |= Q(scim_external_id=user.scim_external_id)
    if others.filter(clash).exists():
        raise IntegrityError("user uniqueness")


def user_delete(user: User) -> None:
    services.user_sessions_end(user=user)
    # The user leaves their groups with the row (M2M cascade); the groups changed now.
    Group.objects.filter(members=user).update(updated_at=timezone.now())
    user.delete()
