"""REST API (DRF) for the catalog, an account's entitlements and free trials: thin adapters over
products.selectors and products.trials, so the permission table, the audit log and the
entitlements documents in the ledger hold for API callers exactly as for the pages.

Authentication and errors as in accounts/api.py: the portal session (with CSRF) or an Atrium
access token granted `atrium:api`; another account is a 404, a role without the right a 403,
bad input (also an unknown product or region) a 400 with a JSON body naming the fields.

Who sees an account's entitlements: the "billing.view" right (owner, admin, billing, read-only).
What an account owns is commercial information: the billing role needs it (it pays for it), a
plain member does not, and "members.view_admin" would leave out exactly the billing role.
Starting a trial takes "members.manage" (owners and admins), as on the product page.
"""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError as ApiValidationError
from rest_framework.response import Response

from accounts.api import AccountAPIView, _require
from products import selectors, trials
from products.models import Entitlement, Product
from regions.models import Region

MAX_TRIAL_REGIONS = 20


# --- catalog ------------------------------------------------------------------------------------
class OfferSerializer(serializers.Serializer):
    """A region the product is offered in."""

    code = serializers.CharField(source="region.code", read_only=True)
    name = serializers.CharField(source="region.name", read_only=True)


class ProductSerializer(serializers.Serializer):
    """A catalog entry (selectors.CatalogEntry): the product and the regions offering it."""

    code = serializers.CharField(source="product.code", read_only=True)
    name = serializers.CharField(source="product.name", read_only=True)
    tagline = serializers.CharField(source="product.tagline", read_only=True)
    description = serializers.CharField(source="product.description", read_only=True)
    category = serializers.CharField(source="product.category", read_only=True)
    icon = serializers.CharField(source="product.icon", read_only=True)
    trial_days = serializers.IntegerField(source="product.trial_days", read_only=True)
    coming_soon = serializers.BooleanField(source="product.coming_soon", read_only=True)
    regions = OfferSerializer(source="offers", many=True, read_only=True)


class ProductsAPI(AccountAPIView):
    """GET the catalog (coming soon last) with the regions each product is offered in; any
    signed-in person, member of an account or not."""

    @extend_schema(
        operation_id="products_list",
        parameters=[OpenApiParameter("page", int, required=False)],
        responses=ProductSerializer(many=True),
    )
    def get(self, request):
        return self.page(selectors.catalog(account=None), ProductSerializer)


class ProductAPI(AccountAPIView):
    """GET one product by code (404 when there is none)."""

    @extend_schema(operation_id="product_get", responses=ProductSerializer)
    def get(self, request, code: str):
        return Response(ProductSerializer(selectors.catalog_entry(code=code, account=None)).data)


# --- entitlements -------------------------------------------------------------------------------
class EntitlementSerializer(serializers.ModelSerializer):
    product = serializers.CharField(source="product.code", read_only=True)
    product_name = serializers.CharField(source="product.name", read_only=True)
    region = serializers.CharField(source="region.code", read_only=True)

    class Meta:
        model = Entitlement
        fields = ["product", "product_name", "region", "status", "starts_at", "ends_at"]
        read_only_fields = fields


class EntitlementsAPI(AccountAPIView):
    """GET the account's entitlements, by product then region (every status: trial, active,
    expired, cancelled). Owners, admins, billing and read-only ("billing.view")."""

    @extend_schema(
        operation_id="entitlements_list",
        parameters=[OpenApiParameter("page", int, required=False)],
        responses=EntitlementSerializer(many=True),
    )
    def get(self, request, slug: str):
        membership = self.membership(slug)
        _require(membership, "billing.view")
        queryset = (
            Entitlement.objects.filter(account=membership.account)
            .select_related("product", "region")
            .order_by("product__code", "region__code")
        )
        return self.page(queryset, EntitlementSerializer)


# --- trials -------------------------------------------------------------------------------------
class TrialStartSerializer(serializers.Serializer):
    product = serializers.SlugField(max_length=40, help_text="The product's code, e.g. backup")
    regions = serializers.ListField(
        child=serializers.SlugField(max_length=10),
        allow_empty=False,
        max_length=MAX_TRIAL_REGIONS,
        help_text='Region codes among the product\'s, e.g. ["eu"]',
    )


class TrialsAPI(AccountAPIView):
    """POST {product, regions}: start the account's free trial of the product in those regions
    (owners and admins). Regions the account does not use yet are added. 201 with the trial's
    entitlements; 400 for an unknown product or region, one not offering the product, a product
    coming soon or without a trial, or a second trial of the same product."""

    @extend_schema(
        operation_id="trial_start",
        request=TrialStartSerializer,
        responses={201: EntitlementSerializer(many=True)},
    )
    def post(self, request, slug: str):
        actor = self.membership(slug)
        _require(actor, "members.manage")
        data = TrialStartSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        code, region_codes = data.validated_data["product"], data.validated_data["regions"]
        product = Product.objects.filter(code=code).first()
        if product is None:
            raise ApiValidationError({"product": [f"No such product “{code}”."]})
        known = {region.code: region for region in Region.objects.filter(code__in=region_codes)}
        unknown = sorted(set(region_codes) - set(known))
        if unknown:
            raise ApiValidationError({"regions": [f"No such region: {', '.join(unknown)}."]})
        regions = [known[region_code] for region_code in region_codes]
        entitlements = trials.trial_start(
            account=actor.account, product=product, regions=regions, actor=actor
        )
        body = EntitlementSerializer(entitlements, many=True).data
        return Response(body, status=status.HTTP_201_CREATED)
