"""What this SCIM service supports, said once: the Schemas (RFC 7643 §7), ResourceTypes (§6) and
ServiceProviderConfig (§5) documents, and `attributes`/`excludedAttributes` (RFC 7644 §3.9).

The schemas list only attributes the region stores and returns; common attributes (id, externalId,
meta) are part of every resource and, as in RFC 7643 §8.7, not repeated here."""

from django.conf import settings

from atrium_kit.scim_filter import ScimFilterError, attr_path

USER_URN = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_URN = "urn:ietf:params:scim:schemas:core:2.0:Group"
SCHEMA_URN = "urn:ietf:params:scim:schemas:core:2.0:Schema"
RESOURCE_TYPE_URN = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
SPC_URN = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
LIST_URN = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
SEARCH_URN = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
PATCH_URN = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ERROR_URN = "urn:ietf:params:scim:api:messages:2.0:Error"

MAX_RESULTS = 200  # filter.maxResults: the most resources one page returns


def _attr(
    name, type_="string", *, required=False, case_exact=False, mutability="readWrite", returned="default",
    uniqueness="none", multi=False, sub=None, description="", **extra,
) -> dict:  # fmt: skip
    doc = {
        "name": name,
        "type": type_,
        "multiValued": multi,
        "description": description,
        "required": required,
        "caseExact": case_exact,
        "mutability": mutability,
        "returned": returned,
        "uniqueness": uniqueness,
        **extra,
    }
    if sub is not None:
        doc["subAttributes"] = sub
        for key in ("caseExact", "uniqueness"):
            doc.pop(key)
    return doc


USER_SCHEMA = {
    "id": USER_URN,
    "name": "User",
    "description": "A person in one tenant of this region",
    "attributes": [
        _attr("userName", required=True, uniqueness="server",
              description="Unique within the tenant, ignoring case; usually the email address"),
        _attr("name", "complex", description="The person's name", sub=[
            _attr("formatted", description="The full name for display"),
            _attr("familyName", description="Family name (at most 150 characters)"),
            _attr("givenName", description="Given name (at most 150 characters)"),
        ]),
        _attr("displayName", description="Name shown to people; defaults to given + family name"),
        _attr("emails", "complex", multi=True, description="Email addresses (one may be primary)", sub=[
            _attr("value", description="The address"),
            _attr("type", canonicalValues=["work", "home", "other"], description="work, home or other"),
            _attr("primary", "boolean", description="The address used for sign-in notices"),
        ]),
        _attr("active", "boolean", description="False suspends the user and ends their sessions here"),
        _attr("groups", "complex", multi=True, mutability="readOnly",
              description="Groups of this tenant the user is a direct member of (change them on /Groups)",
              sub=[
                  _attr("value", mutability="readOnly", description="The group's id"),
                  _attr("$ref", "reference", mutability="readOnly", referenceTypes=["Group"],
                        description="The group's URI"),
                  _attr("display", mutability="readOnly", description="The group's displayName"),
                  _attr("type", mutability="readOnly", canonicalValues=["direct"],
                        description="Always direct: groups do not nest here"),
              ]),
    ],
}  # fmt: skip

GROUP_SCHEMA = {
    "id": GROUP_URN,
    "name": "Group",
    "description": "A group of users of one tenant",
    "attributes": [
        _attr("displayName", required=True, uniqueness="server",
              description="Unique within the tenant, ignoring case"),
        _attr("members", "complex", multi=True, description="Users of the same tenant", sub=[
            _attr("value", mutability="immutable", description="The member's id (a User of this tenant)"),
            _attr("$ref", "reference", mutability="readOnly", referenceTypes=["User"],
                  description="The member's URI"),
            _attr("display", mutability="readOnly", description="The member's displayName"),
            _attr("type", mutability="immutable", canonicalValues=["User"],
                  description="Always User: groups do not nest here"),
        ]),
    ],
}  # fmt: skip

SCHEMAS = {USER_URN: USER_SCHEMA, GROUP_URN: GROUP_SCHEMA}

RESOURCE_TYPES = {
    "User": {"name": "User", "endpoint": "/Users", "description": "User accounts", "schema": USER_URN},
    "Group": {"name": "Group", "endpoint": "/Groups", "description": "Groups of users", "schema": GROUP_URN},
}


def base_url(slug: str) -> str:
    return f"{settings.REGION_MACHINE_URL}/scim/v2/{slug}"


def schema_doc(urn: str, slug: str) -> dict:
    return {
        "schemas": [SCHEMA_URN],
        **SCHEMAS[urn],
        "meta": {"resourceType": "Schema", "location": f"{base_url(slug)}/Schemas/{urn}"},
    }


def resource_type_doc(type_id: str, slug: str) -> dict:
    return {
        "schemas": [RESOURCE_TYPE_URN],
        "id": type_id,
        **RESOURCE_TYPES[type_id],
        "schemaExtensions": [],
        "meta": {"resourceType": "ResourceType", "location": f"{base_url(slug)}/ResourceTypes/{type_id}"},
    }


def service_provider_config_doc(slug: str) -> dict:
    provider = settings.SCIM_SERVICE_PROVIDER
    doc = {
        "schemas": [SPC_URN],
        "patch": {"supported": True},
        "bulk": {"supported": False, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": True, "maxResults": MAX_RESULTS},
        "changePassword": {"supported": False},
        "sort": {"supported": True},
        "etag": {"supported": False},
        "authenticationSchemes": provider["AUTHENTICATION_SCHEMES"],
        "meta": {
            "resourceType": "ServiceProviderConfig",
            "location": f"{base_url(slug)}/ServiceProviderConfig",
        },
    }
    if provider.get("DOCUMENTATION_URI"):
        doc["documentationUri"] = provider["DOCUMENTATION_URI"]
    return doc


def list_response(resources: list, *, total: int | None = None, start: int = 1) -> dict:
    return {
        "schemas": [LIST_URN],
        "totalResults": len(resources) if total is None else total,
        "startIndex": start,
        "itemsPerPage": len(resources),
        "Resources": resources,
    }


# --- attributes / excludedAttributes (RFC 7644 §3.9, §3.4.2.5) ----------------------------------
ALWAYS_RETURNED = {"id", "schemas"}  # id is returned "always"; schemas identifies the resource


def attribute_list(raw) -> list:
    """`attributes` as a query parameter (comma separated) or in a SearchRequest (a list)."""
    if raw is None:
        return []
    items = raw.split(",") if isinstance(raw, str) else raw
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        raise ScimFilterError("attributes must be a list of attribute names")
    return [attr_path(i.strip()) for i in items if i.strip()]


def _key(doc: dict, attr: str) -> str | None:
    return next((k for k in doc if k.lower() == attr), None)


def project(doc: dict, attributes: list, excluded: list) -> dict:
    """Keep only `attributes` (plus id and schemas), or drop `excluded` from the default set."""
    if attributes:
        out = {k: v for k, v in doc.items() if k in ALWAYS_RETURNED}
        for path in attributes:
            key = _key(doc, path.attr)
            if key is None or key in ALWAYS_RETURNED:
                continue
            value = doc[key]
            if path.sub is None:
                out[key] = value
            elif isinstance(value, dict):
                sub = _key(value, path.sub)
                if sub is not None:
                    out.setdefault(key, {})[sub] = value[sub]
            elif isinstance(value, list):
                picked = [{k: v for k, v in item.items() if k.lower() == path.sub} for item in value]
                previous = out.get(key) if isinstance(out.get(key), list) else [{} for _ in value]
                out[key] = [{**a, **b} for a, b in zip(previous, picked, strict=True)]
        return out
    out = dict(doc)
    for path in excluded:
        key = _key(out, path.attr)
        if key is None or key in ALWAYS_RETURNED:
            continue
        if path.sub is None:
            del out[key]
        elif isinstance(out[key], dict):
            out[key] = {k: v for k, v in out[key].items() if k.lower() != path.sub}
        elif isinstance(out[key], list):
            out[key] = [{k: v for k, v in item.items() if k.lower() != path.sub} for item in out[key]]
    return out


def wanted(attr: str, attributes: list, excluded: list) -> bool:
    """Whether a (costly) attribute will be returned, so it is only loaded when needed."""
    attr = attr.lower()
    if attributes:
        return any(p.attr == attr for p in attributes)
    return not any(p.attr == attr and p.sub is None for p in excluded)
