"""REST API (DRF) for the catalog, an account's entitlements and free trials: thin adapters over
products.selectors and products.trials, so the permission table, the audit log and the
entitlements documents in the ledger hold for API callers exactly as for the pages.

Authentication and errors as in accounts/api.py: the portal session (with CSRF) or an Atrium
access token granted `atrium:api`; another account is a 404, a role without the right a 403,
bad input (also an unknown product or region) a 400 with a JSON body naming the fields.

Who sees an account's entitlements: the "entitlements.view" right (owner, admin, billing, read-only).
What an account owns is commercial information: the billing role needs it (it pays for it), a
plain member does not, and "members.view_admin" would leave out exactly the billing role.
Starting a trial takes "members.manage" (owners and admins), as on the product page.

Trial requests (products/trial_requests.py): everyone lists them (owners, admins and read-only
see all of the account's, others their own); members and billing create one where the account's
trial policy is "members_request" (else 403); owners and admins approve or decline (others 403).
"""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError as ApiValidationError
from rest_framework.response import Response

from accounts.api import AccountAPIView, _require
from products import selectors, trial_requests, trials
from products.models import Entitlement, Product, TrialRequest
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
    expired, cancelled). Owners, admins, billing and read-only ("entitlements.view")."""

    @extend_schema(
        operation_id="entitlements_list",
        parameters=[OpenApiParameter("page", int, required=False)],
        responses=EntitlementSerializer(many=True),
    )
    def get(self, request, slug: str):
        membership = self.membership(slug)
        _require(membership, "entitlements.view")
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


def _product_and_regions(code: str, region_codes: list[str]) -> tuple[Product, list[Region]]:
    """The product and regions named in a request body, or a 400 naming the unknown one."""
    product = Product.objects.filter(code=code).first()
    if product is None:
        raise ApiValidationError({"product": [f"No such product “{code}”."]})
    known = {region.code: region for region in Region.objects.filter(code__in=region_codes)}
    unknown = sorted(set(region_codes) - set(known))
    if unknown:
        raise ApiValidationError({"regions": [f"No such region: {', '.join(unknown)}."]})
    return product, [known[region_code] for region_code in region_codes]


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
        product, regions = _product_and_regions(
            data.validated_data["product"], data.validated_data["regions"]
        )
        entitlements = trials.trial_start(
            account=actor.account, product=product, regions=regions, actor=actor
        )
        body = EntitlementSerializer(entitlements, many=True).data
        return Response(body, status=status.HTTP_201_CREATED)


# --- trial requests -----------------------------------------------------------------------------
class TrialRequestSerializer(serializers.ModelSerializer):
    product = serializers.CharField(source="product.code", read_only=True)
    product_name = serializers.CharField(source="product.name", read_only=True)
    regions = serializers.SerializerMethodField()
    decided_by = serializers.SerializerMethodField()

    class Meta:
        model = TrialRequest
        fields = ["id", "product", "product_name", "regions", "requester_email", "note", "status",
                  "decided_by", "decided_at", "decline_reason", "created_at"]  # fmt: skip
        read_only_fields = fields

    def get_regions(self, trial_request) -> list[str]:
        return [region.code for region in trial_request.regions.all()]  # prefetched, ordered by code

    def get_decided_by(self, trial_request) -> str | None:
        return trial_request.decided_by.email if trial_request.decided_by else None


class TrialRequestCreateSerializer(TrialStartSerializer):
    note = serializers.CharField(
        required=False, allow_blank=True, max_length=trial_requests.MAX_TEXT, default=""
    )


class TrialRequestDeclineSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=trial_requests.MAX_TEXT, help_text="Mailed to the requester.")


class TrialRequestsAPI(AccountAPIView):
    """GET the account's trial requests (pending first); POST {product, regions, note}: a member
    asks the admins for a free trial (201; 403 when the trial policy is "admins" or for
    read-only; 400 for an owned product, a pending request, or an owner/admin, who start it)."""

    @extend_schema(
        operation_id="trial_requests_list",
        parameters=[OpenApiParameter("page", int, required=False)],
        responses=TrialRequestSerializer(many=True),
    )
    def get(self, request, slug: str):
        membership = self.membership(slug)
        return self.page(trial_requests.trial_requests_visible(membership=membership), TrialRequestSerializer)

    @extend_schema(
        operation_id="trial_request_create",
        request=TrialRequestCreateSerializer,
        responses={201: TrialRequestSerializer},
    )
    def post(self, request, slug: str):
        actor = self.membership(slug)
        data = TrialRequestCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        product, regions = _product_and_regions(
            data.validated_data["product"], data.validated_data["regions"]
        )
        created = trial_requests.trial_request_create(
            actor=actor, product=product, regions=regions, note=data.validated_data["note"]
        )
        body = TrialRequestSerializer(
            trial_requests.trial_request_of_account(membership=actor, pk=created.pk)
        )
        return Response(body.data, status=status.HTTP_201_CREATED)


class _DecisionAPI(AccountAPIView):
    def decide(self, slug: str, pk: int):
        actor = self.membership(slug)
        _require(actor, trial_requests.DECIDE_RIGHT)
        return actor, trial_requests.trial_request_of_account(membership=actor, pk=pk)  # 404

    def answer(self, actor, pk: int) -> Response:
        return Response(
            TrialRequestSerializer(trial_requests.trial_request_of_account(membership=actor, pk=pk)).data
        )


class TrialRequestApproveAPI(_DecisionAPI):
    """POST: an owner or admin approves; the trial starts in the requested regions. 400 when it
    was decided already or can no longer start (e.g. the account got the product meanwhile)."""

    @extend_schema(operation_id="trial_request_approve", request=None, responses=TrialRequestSerializer)
    def post(self, request, slug: str, pk: int):
        actor, trial_request = self.decide(slug, pk)
        trial_requests.trial_request_approve(actor=actor, trial_request=trial_request)
        return self.answer(actor, pk)


class TrialRequestDeclineAPI(_DecisionAPI):
    """POST {reason}: an owner or admin declines; the requester is mailed the reason."""

    @extend_schema(
        operation_id="trial_request_decline",
        request=TrialRequestDeclineSerializer,
        responses=TrialRequestSerializer,
    )
    def post(self, request, slug: str, pk: int):
        actor, trial_request = self.decide(slug, pk)
        data = TrialRequestDeclineSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        trial_requests.trial_request_decline(
            actor=actor, trial_request=trial_request, reason=data.validated_data["reason"]
        )
        return self.answer(actor, pk)
