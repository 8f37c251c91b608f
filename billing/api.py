"""REST API v1 for plans, subscriptions (with previews and changes) and invoices: thin adapters over
billing.services and billing.selectors, on accounts/api.py's plumbing (session or `atrium:api`
token; another account 404, a role without the right 403, bad input 400 with a JSON body).

A change endpoint takes `"preview": true` to return the exact amounts without changing anything
(the same code as the change and the invoice)."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from accounts.api import AccountAPIView, _require
from billing import selectors, services
from billing.models import Invoice, InvoiceLine, Plan, Subscription
from products.models import Product


# --- serializers --------------------------------------------------------------------------------
class PlanSerializer(serializers.ModelSerializer):
    product = serializers.CharField(source="product.code", read_only=True)

    class Meta:
        model = Plan
        fields = ["id", "product", "code", "name", "interval", "currency", "unit_price"]


class SubscriptionSerializer(serializers.ModelSerializer):
    product = serializers.CharField(source="product.code", read_only=True)
    plan = serializers.CharField(source="plan.code", read_only=True)
    pending_plan = serializers.CharField(source="pending_plan.code", read_only=True, allow_null=True)
    seats = serializers.SerializerMethodField()
    pending_seats = serializers.SerializerMethodField()
    # Plain strings: several models have a `status` enum and the schema would have to rename them.
    status = serializers.CharField(read_only=True, help_text="trialing, active, past_due or cancelled")
    interval = serializers.CharField(read_only=True, help_text="month or year")
    currency = serializers.CharField(read_only=True, help_text="USD, EUR or AUD")

    class Meta:
        model = Subscription
        fields = [
            "id",
            "product",
            "plan",
            "status",
            "unit_price",
            "currency",
            "interval",
            "current_period_start",
            "current_period_end",
            "pending_plan",
            "cancel_at_period_end",
            "seats",
            "pending_seats",
        ]

    def get_seats(self, obj) -> dict[str, int]:
        return {item.region.code: item.seats for item in obj.items.all()}

    def get_pending_seats(self, obj) -> dict[str, int]:
        return {
            item.region.code: item.pending_seats for item in obj.items.all() if item.pending_seats is not None
        }


class DraftLineSerializer(serializers.Serializer):
    kind = serializers.CharField()
    region = serializers.CharField()
    description = serializers.CharField()
    seats = serializers.IntegerField()
    unit_price = serializers.DecimalField(max_digits=12, decimal_places=2)
    amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    period_start = serializers.DateTimeField()
    period_end = serializers.DateTimeField()


class DraftSerializer(serializers.Serializer):
    currency = serializers.CharField()
    period_start = serializers.DateTimeField()
    period_end = serializers.DateTimeField()
    total = serializers.DecimalField(max_digits=14, decimal_places=2)
    lines = DraftLineSerializer(many=True)


class ChangePreviewSerializer(serializers.Serializer):
    takes_effect = serializers.CharField()
    charge_now = serializers.DecimalField(max_digits=14, decimal_places=2)
    seats_now = serializers.DictField(child=serializers.IntegerField())
    seats_at_renewal = serializers.DictField(child=serializers.IntegerField())
    plan_now = serializers.CharField(source="plan_now.code")
    plan_at_renewal = serializers.CharField(source="plan_at_renewal.code")
    next_invoice = DraftSerializer()


class InvoiceLineSerializer(serializers.ModelSerializer):
    region = serializers.CharField(source="region.code")
    product = serializers.CharField(source="product.code")

    class Meta:
        model = InvoiceLine
        fields = [
            "kind",
            "product",
            "region",
            "description",
            "seats",
            "unit_price",
            "amount",
            "period_start",
            "period_end",
        ]


class InvoiceSerializer(serializers.ModelSerializer):
    product = serializers.CharField(source="subscription.product.code", read_only=True)
    status = serializers.CharField(read_only=True, help_text="open, paid or void")
    currency = serializers.CharField(read_only=True, help_text="USD, EUR or AUD")

    class Meta:
        model = Invoice
        fields = [
            "number",
            "subscription",
            "product",
            "period_start",
            "period_end",
            "currency",
            "total",
            "status",
            "issued_at",
            "due_at",
            "paid_at",
        ]


class InvoiceDetailSerializer(InvoiceSerializer):
    lines = InvoiceLineSerializer(many=True, read_only=True)

    class Meta(InvoiceSerializer.Meta):
        fields = [*InvoiceSerializer.Meta.fields, "lines"]


class SubscribeInput(serializers.Serializer):
    product = serializers.SlugField()
    plan = serializers.SlugField(help_text="The plan's code within the product.")
    seats = serializers.DictField(child=serializers.IntegerField(min_value=0, max_value=services.MAX_SEATS))
    preview = serializers.BooleanField(default=False)
    expected_total = serializers.CharField(
        required=False,
        max_length=40,
        help_text='The preview\'s "<total> <currency>" (e.g. "50.00 USD"): refuse to buy at another price.',
    )


class SeatsInput(serializers.Serializer):
    seats = serializers.DictField(
        child=serializers.IntegerField(min_value=0, max_value=services.MAX_SEATS),
        help_text="Region code → seats; regions not named stay; 0 removes a region at period end.",
    )
    preview = serializers.BooleanField(default=False)


class PlanInput(serializers.Serializer):
    plan = serializers.SlugField()
    preview = serializers.BooleanField(default=False)


def _valid(serializer_class, data):
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


# --- views --------------------------------------------------------------------------------------
class PlansAPI(AccountAPIView):
    @extend_schema(
        parameters=[OpenApiParameter("product", str, required=False)], responses=PlanSerializer(many=True)
    )
    def get(self, request):
        plans = selectors.plans_offered()
        if request.query_params.get("product"):
            plans = plans.filter(product__code=request.query_params["product"])
        return self.page(plans, PlanSerializer)


class SubscriptionsAPI(AccountAPIView):
    @extend_schema(responses=SubscriptionSerializer(many=True))
    def get(self, request, slug: str):
        membership = self.membership(slug)
        _require(membership, "billing.view")
        return self.page(
            selectors.subscriptions_of_account(account=membership.account), SubscriptionSerializer
        )

    @extend_schema(request=SubscribeInput, responses={200: DraftSerializer, 201: SubscriptionSerializer})
    def post(self, request, slug: str):
        """Trial → paid. With `preview`, the first invoice it would create."""
        membership = self.membership(slug)
        _require(membership, "billing.manage")
        data = _valid(SubscribeInput, request.data)
        product = Product.objects.filter(code=data["product"], coming_soon=False).first()
        plan = (
            Plan.objects.filter(product=product, code=data["plan"], active=True).first() if product else None
        )
        if plan is None:
            return Response(
                {"plan": ["No such plan on sale for this product."]}, status=status.HTTP_400_BAD_REQUEST
            )
        arguments = {
            "account": membership.account,
            "product": product,
            "plan": plan,
            "seats_by_region": data["seats"],
        }
        if data["preview"]:
            return Response(DraftSerializer(services.subscription_convert_trial_preview(**arguments)).data)
        subscription = services.subscription_convert_trial(
            **arguments, actor=membership, expected_total=data.get("expected_total")
        )
        subscription = selectors.subscription_of_account(
            account=membership.account, subscription_id=subscription.pk
        )
        return Response(SubscriptionSerializer(subscription).data, status=status.HTTP_201_CREATED)


class SubscriptionAPI(AccountAPIView):
    def subscription(self, slug: str, pk: int, action: str):
        membership = self.membership(slug)
        subscription = selectors.subscription_of_account(account=membership.account, subscription_id=pk)
        _require(membership, action)
        return membership, subscription

    def fresh(self, membership, subscription):
        return selectors.subscription_of_account(account=membership.account, subscription_id=subscription.pk)

    @extend_schema(responses=SubscriptionSerializer)
    def get(self, request, slug: str, pk: int):
        _, subscription = self.subscription(slug, pk, "billing.view")
        return Response(SubscriptionSerializer(subscription).data)


class SubscriptionSeatsAPI(SubscriptionAPI):
    @extend_schema(request=SeatsInput, responses={200: ChangePreviewSerializer, 202: SubscriptionSerializer})
    def post(self, request, slug: str, pk: int):
        membership, subscription = self.subscription(slug, pk, "billing.manage")
        data = _valid(SeatsInput, request.data)
        if data["preview"]:
            preview = services.subscription_seats_change_preview(
                subscription=subscription, seats_by_region=data["seats"]
            )
            return Response(ChangePreviewSerializer(preview).data)
        services.subscription_seats_change(
            subscription=subscription, seats_by_region=data["seats"], actor=membership
        )
        return Response(SubscriptionSerializer(self.fresh(membership, subscription)).data, status=202)


class SubscriptionPlanAPI(SubscriptionAPI):
    @extend_schema(request=PlanInput, responses={200: ChangePreviewSerializer, 202: SubscriptionSerializer})
    def post(self, request, slug: str, pk: int):
        membership, subscription = self.subscription(slug, pk, "billing.manage")
        data = _valid(PlanInput, request.data)
        plan = Plan.objects.filter(product=subscription.product, code=data["plan"]).first()
        if plan is None:
            return Response({"plan": ["No such plan for this product."]}, status=status.HTTP_400_BAD_REQUEST)
        if data["preview"]:
            preview = services.subscription_plan_change_preview(subscription=subscription, plan=plan)
            return Response(ChangePreviewSerializer(preview).data)
        services.subscription_plan_change(subscription=subscription, plan=plan, actor=membership)
        return Response(SubscriptionSerializer(self.fresh(membership, subscription)).data, status=202)


class SubscriptionCancelAPI(SubscriptionAPI):
    @extend_schema(request=None, responses={202: SubscriptionSerializer})
    def post(self, request, slug: str, pk: int):
        """Cancel at period end."""
        membership, subscription = self.subscription(slug, pk, "billing.manage")
        services.subscription_cancel(subscription=subscription, actor=membership)
        return Response(SubscriptionSerializer(self.fresh(membership, subscription)).data, status=202)


class SubscriptionReactivateAPI(SubscriptionAPI):
    @extend_schema(request=None, responses={202: SubscriptionSerializer})
    def post(self, request, slug: str, pk: int):
        """Withdraw a pending cancellation."""
        membership, subscription = self.subscription(slug, pk, "billing.manage")
        services.subscription_reactivate(subscription=subscription, actor=membership)
        return Response(SubscriptionSerializer(self.fresh(membership, subscription)).data, status=202)


class InvoicesAPI(AccountAPIView):
    @extend_schema(responses=InvoiceSerializer(many=True))
    def get(self, request, slug: str):
        membership = self.membership(slug)
        _require(membership, "billing.view")
        return self.page(selectors.invoices_of_account(account=membership.account), InvoiceSerializer)


class InvoiceAPI(AccountAPIView):
    @extend_schema(responses=InvoiceDetailSerializer)
    def get(self, request, slug: str, number: str):
        membership = self.membership(slug)
        _require(membership, "billing.view")
        invoice = selectors.invoice_of_account(account=membership.account, number=number)  # else 404
        return Response(InvoiceDetailSerializer(invoice).data)
