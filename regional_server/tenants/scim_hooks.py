"""django-scim2 hooks named in SCIM_SERVICE_PROVIDER. Kept apart from the views: the library
imports these while its own modules are still loading."""

from django_scim.filters import UserFilterQuery
from django_scim.models import SCIMServiceProviderConfig


class PassThroughAuthCheck:
    """Replaces the library's per-view auth check: MachineTokenMiddleware already decided."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request, *args, **kwargs):
        return self.get_response(request, *args, **kwargs)


def tenant_filter_kwargs_getter(model):
    def kwargs_for(request, *args, **kwargs):
        return {"tenant_id": request.scim_tenant_id}

    return kwargs_for


class RegionUserFilterQuery(UserFilterQuery):
    attr_map = {
        ("userName", None, None): "scim_username",
        ("externalId", None, None): "scim_external_id",
        ("name", "familyName", None): "last_name",
        ("familyName", None, None): "last_name",
        ("name", "givenName", None): "first_name",
        ("givenName", None, None): "first_name",
        ("emails", "value", None): "email",
        ("active", None, None): "is_active",
    }

    @classmethod
    def get_extras(cls, q, request=None):
        # Scope in SQL: the library would otherwise filter the whole table in Python.
        return " AND tenant_id = %s", [request.scim_tenant_id]


class RegionServiceProviderConfig(SCIMServiceProviderConfig):
    def to_dict(self):
        d = super().to_dict()
        d["filter"] = {"supported": True, "maxResults": 200}
        d["changePassword"] = {"supported": False}
        d["bulk"] = {"supported": False, "maxOperations": 0, "maxPayloadSize": 0}
        return d
