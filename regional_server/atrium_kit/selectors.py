from atrium_kit.models import Tenant, TenantEntitlements, User


def users_admitted_for_sub(*, sub: str) -> list[User]:
    """Users with this Atrium identity that may log in here, one per tenant, by tenant slug."""
    return list(
        User.objects.filter(scim_external_id=sub, is_active=True, tenant__is_active=True)
        .select_related("tenant")
        .order_by("tenant__slug")
    )


def user_admitted_by_pk(*, pk) -> User | None:
    return User.objects.filter(pk=pk, is_active=True, tenant__is_active=True).select_related("tenant").first()


def tenant_entitlements_of(*, tenant: Tenant) -> TenantEntitlements | None:
    return TenantEntitlements.objects.filter(tenant=tenant).first()
