"""The customer billing pages under /a/<slug>/billing/ (owner and billing roles; others 403, another
account 404). Thin: forms parse, billing.services and billing.selectors do the work. Every change
shows its preview (the same code as the invoice) and needs a second submit to confirm."""

import csv

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import permissions, selectors
from accounts.views import account_page
from billing import selectors as billing_selectors
from billing import services
from billing.forms import PlanForm, SeatsForm, SubscribeForm
from billing.models import Plan
from products.models import Product

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _csv_safe(value) -> str:
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) and not _is_number(text) else text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _viewer(request, slug: str, action: str = "billing.view"):
    membership = selectors.membership_for_page(user=request.user, slug=slug)
    permissions.require(membership, action)
    return membership


def _errors_into(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


@account_page
@require_GET
def billing_home(request, slug: str):
    membership = _viewer(request, slug)
    account = membership.account
    rows = billing_selectors.billing_overview(account=account)
    invoices = list(billing_selectors.invoices_of_account(account=account)[:50])
    context = {
        "account": account,
        "membership": membership,
        "rows": rows,
        "invoices": invoices,
        "upcoming": billing_selectors.upcoming_total(rows),
        "can_manage": permissions.can(membership, "billing.manage"),
        "plans": list(
            billing_selectors.plans_offered().filter(product__in=[r.subscription.product for r in rows])
        ),
    }
    return render(request, "billing/home.html", context)


@account_page
@require_http_methods(["GET", "POST"])
def subscribe(request, slug: str, code: str):
    membership = _viewer(request, slug, "billing.manage")
    account = membership.account
    product = get_object_or_404(Product, code=code, coming_soon=False)
    plans = billing_selectors.plans_offered(product=product)
    regions = billing_selectors.sellable_regions(account=account, product=product)
    form = SubscribeForm(request.POST or None, plans=plans, regions=regions)
    context = {
        "account": account,
        "membership": membership,
        "product": product,
        "form": form,
        "preview": None,
    }
    if not plans.exists() or not regions:
        context["unavailable"] = True
        return render(request, "billing/subscribe.html", context)
    if request.method == "POST" and form.is_valid():
        arguments = {
            "account": account,
            "product": product,
            "plan": form.cleaned_data["plan"],
            "seats_by_region": form.seats(),
        }
        try:
            if request.POST.get("confirm") == "1":
                services.subscription_convert_trial(
                    **arguments, actor=membership, expected_total=request.POST.get("expected_total")
                )
                messages.success(request, f"{account.name} now subscribes to {product.name}.")
                return redirect("billing:home", slug=account.slug)
            context["preview"] = services.subscription_convert_trial_preview(**arguments)
        except ValidationError as exc:
            _errors_into(form, exc)
            if exc.code == "preview_changed":
                context["preview"] = services.subscription_convert_trial_preview(**arguments)
    status = 400 if request.method == "POST" and form.errors else 200
    return render(request, "billing/subscribe.html", context, status=status)


@account_page
@require_http_methods(["GET", "POST"])
def change_seats(request, slug: str, pk: int):
    membership = _viewer(request, slug, "billing.manage")
    account = membership.account
    subscription = billing_selectors.subscription_of_account(account=account, subscription_id=pk)
    regions = billing_selectors.sellable_regions(account=account, product=subscription.product)
    current = {item.region.code: item.seats for item in subscription.items.all()}
    form = SeatsForm(request.POST or None, regions=regions, initial_seats=current)
    context = {"account": account, "membership": membership, "subscription": subscription, "form": form}
    if request.method == "POST" and form.is_valid():
        # Only regions the subscription has or gains: a 0 for a region never bought is no change.
        wanted = {code: n for code, n in form.seats().items() if code in current or n > 0}
        try:
            if request.POST.get("confirm") == "1":
                services.subscription_seats_change(
                    subscription=subscription, seats_by_region=wanted, actor=membership
                )
                messages.success(request, "Seats changed.")
                return redirect("billing:home", slug=account.slug)
            context["preview"] = services.subscription_seats_change_preview(
                subscription=subscription, seats_by_region=wanted
            )
        except ValidationError as exc:
            _errors_into(form, exc)
    status = 400 if request.method == "POST" and form.errors else 200
    return render(request, "billing/change_seats.html", context, status=status)


@account_page
@require_http_methods(["GET", "POST"])
def change_plan(request, slug: str, pk: int):
    membership = _viewer(request, slug, "billing.manage")
    account = membership.account
    subscription = billing_selectors.subscription_of_account(account=account, subscription_id=pk)
    plans = billing_selectors.plans_offered(product=subscription.product).exclude(pk=subscription.plan_id)
    form = PlanForm(request.POST or None, plans=plans)
    context = {"account": account, "membership": membership, "subscription": subscription, "form": form}
    if request.method == "POST" and form.is_valid():
        plan: Plan = form.cleaned_data["plan"]
        try:
            if request.POST.get("confirm") == "1":
                services.subscription_plan_change(subscription=subscription, plan=plan, actor=membership)
                messages.success(request, "Plan changed.")
                return redirect("billing:home", slug=account.slug)
            context["preview"] = services.subscription_plan_change_preview(
                subscription=subscription, plan=plan
            )
        except ValidationError as exc:
            _errors_into(form, exc)
    status = 400 if request.method == "POST" and form.errors else 200
    return render(request, "billing/change_plan.html", context, status=status)


@account_page
@require_POST
def cancel(request, slug: str, pk: int):
    membership = _viewer(request, slug, "billing.manage")
    subscription = billing_selectors.subscription_of_account(account=membership.account, subscription_id=pk)
    try:
        if request.POST.get("undo") == "1":
            services.subscription_reactivate(subscription=subscription, actor=membership)
            messages.success(request, "The cancellation is withdrawn.")
        else:
            services.subscription_cancel(subscription=subscription, actor=membership)
            messages.success(
                request, f"Cancelled: access runs to {subscription.current_period_end:%Y-%m-%d}."
            )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("billing:home", slug=membership.account.slug)


@account_page
@require_GET
def invoice_detail(request, slug: str, number: str):
    membership = _viewer(request, slug)
    invoice = billing_selectors.invoice_of_account(account=membership.account, number=number)
    return render(request, "billing/invoice.html", {"account": membership.account, "invoice": invoice})


INVOICE_HEADER = [
    "Invoice",
    "Kind",
    "Description",
    "Region",
    "Seats",
    "Unit price",
    "Amount",
    "Currency",
    "Period start",
    "Period end",
]


def _csv(filename: str, header: list[str], rows) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    writer.writerow(header)
    for row in rows:
        writer.writerow([_csv_safe(value) for value in row])
    return response


@account_page
@require_GET
def invoice_csv(request, slug: str, number: str):
    membership = _viewer(request, slug)
    invoice = billing_selectors.invoice_of_account(account=membership.account, number=number)
    rows = [
        [
            invoice.number,
            line.kind,
            line.description,
            line.region.code,
            line.seats,
            line.unit_price,
            line.amount,
            invoice.currency,
            line.period_start.date(),
            line.period_end.date(),
        ]
        for line in invoice.lines.all()
    ]
    rows.append([invoice.number, "total", "", "", "", "", invoice.total, invoice.currency, "", ""])
    return _csv(f"{invoice.number}.csv", INVOICE_HEADER, rows)


@account_page
@require_GET
def invoices_csv(request, slug: str):
    membership = _viewer(request, slug)
    invoices = billing_selectors.invoices_of_account(account=membership.account)
    rows = (
        [
            i.number,
            i.subscription.product.name,
            i.period_start.date(),
            i.period_end.date(),
            i.currency,
            i.total,
            i.status,
            i.issued_at.date(),
            i.due_at.date(),
            i.paid_at.date() if i.paid_at else "",
        ]
        for i in invoices
    )
    header = [
        "Invoice",
        "Product",
        "Period start",
        "Period end",
        "Currency",
        "Total",
        "Status",
        "Issued",
        "Due",
        "Paid",
    ]
    return _csv(f"{membership.account.slug}-invoices.csv", header, rows)
