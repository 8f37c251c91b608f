"""The SCIM User resource of a region user (django-scim2 adapter)."""

from django.conf import settings
from django.db import IntegrityError, transaction
from django_scim import constants
from django_scim import exceptions as scim_exceptions
from django_scim.adapters import SCIMUser

from tenants import services
from tenants.scim_hooks import RegionUserFilterQuery


class RegionSCIMUser(SCIMUser):
    ATTR_MAP = RegionUserFilterQuery.attr_map

    @staticmethod
    def base_location(request) -> str:
        return settings.REGION_MACHINE_URL

    @property
    def display_name(self):
        return self.obj.display_name

    @property
    def groups(self):
        return []

    @property
    def meta(self):
        return {
            "resourceType": self.resource_type,
            "created": self.obj.created_at.isoformat(),
            "lastModified": self.obj.updated_at.isoformat(),
            "location": self.location,
        }

    def to_dict(self):
        return {
            "schemas": [constants.SchemaURI.USER],
            "id": self.id,
            "externalId": self.obj.scim_external_id,
            "userName": self.obj.scim_username,
            "name": {
                "givenName": self.obj.first_name,
                "familyName": self.obj.last_name,
                "formatted": self.display_name,
            },
            "displayName": self.display_name,
            "emails": self.emails,
            "active": self.obj.is_active,
            "groups": [],
            "meta": self.meta,
        }

    def validate_dict(self, d):
        super().validate_dict(d)
        for key, max_length in (("userName", 254), ("externalId", 254)):
            value = d.get(key)
            if not isinstance(value, str) or not value.strip():
                raise scim_exceptions.BadRequestError(f'"{key}" is required and must be a string')
            if len(value) > max_length:
                raise scim_exceptions.BadRequestError(f'"{key}" is longer than {max_length} characters')
        if "name" in d and not isinstance(d["name"], dict):
            raise scim_exceptions.BadRequestError('"name" must be an object')
        for key in ("givenName", "familyName"):
            value = (d.get("name") or {}).get(key)
            if value is not None and (not isinstance(value, str) or len(value) > 150):
                raise scim_exceptions.BadRequestError(
                    f'"name.{key}" must be a string of at most 150 characters'
                )
        emails = d.get("emails")
        if isinstance(emails, list) and not all(isinstance(e, dict) for e in emails):
            raise scim_exceptions.BadRequestError('"emails" must be a list of objects')

    def from_dict(self, d):
        self._was_active = self.obj.is_active if self.obj.pk else True
        if self.obj.pk is None:
            self.obj.tenant_id = self.request.scim_tenant_id
        self.obj.scim_external_id = d["externalId"].strip()
        self.obj.scim_username = d["userName"].strip().lower()
        name = d.get("name") or {}
        self.obj.first_name = name.get("givenName") or ""
        self.obj.last_name = name.get("familyName") or ""
        self.obj.email = ""
        self.parse_emails(d.get("emails") or [])
        if not self.obj.email and "@" in self.obj.scim_username:
            self.obj.email = self.obj.scim_username
        active = d.get("active")
        if active is not None:
            self.obj.is_active = active

    def handle_replace(self, path, value, operation):
        if not hasattr(self, "_was_active"):
            self._was_active = self.obj.is_active
        return super().handle_replace(path, value, operation)

    def save(self):
        was_active = getattr(self, "_was_active", self.obj.is_active)
        if self.obj.tenant_id is None:
            raise scim_exceptions.NotFoundError(self.request.scim_tenant_slug)
        try:
            with transaction.atomic():
                self.obj.save()
        except IntegrityError as exc:
            raise scim_exceptions.IntegrityError(
                "A user with this userName or externalId already exists in this tenant"
            ) from exc
        if was_active and not self.obj.is_active:
            # Suspended at Atrium: the person's sessions here end now, not at expiry.
            services.user_sessions_end(user=self.obj)

    def delete(self):
        services.user_sessions_end(user=self.obj)
        self.obj.delete()
