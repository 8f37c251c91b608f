"""Sales staff pages: the dashboard (/sales/), CSV exports of its tables, the account 360 and a
manager's reassignment. Thin: the sales scope comes from billing.sales, the rows from
billing.sales_selectors. Anyone who is not sales staff gets 403 on every page."""

import csv
from decimal import Decimal
from functools import wraps

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from accounts.views_audit import csv_safe
from billing import sales, sales_selectors


def sales_page(view):
    """Signed in (else the login page), and sales staff (else 403); sets request.sales_scope."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        scope = sales.sales_scope_of(request.user)
        if scope is None:
            raise PermissionDenied("Sales staff only.")
        request.sales_scope = scope
        return view(request, *args, **kwargs)

    return wrapper


@require_GET
@sales_page
def dashboard(request):
    memo: dict = {}
    tables = sales_selectors.sales_dashboard(scope=request.sales_scope, now=timezone.now(), memo=memo)
    context = {"tables": tables, "scope": request.sales_scope, "activity_as_of": memo.get("activity_as_of")}
    return render(request, "billing/sales/dashboard.html", context)


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv_cell(value) -> str:
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, int | Decimal):
        # A number is never a formula: "-40.00" (churn) must stay a number in the spreadsheet.
        return str(value)
    return csv_safe(str(value))


def csv_response(*, filename: str, header: list[str], rows) -> StreamingHttpResponse:
    """Formula-safe CSV (as the audit log's), with a BOM so spreadsheets read it as UTF-8."""
    writer = csv.writer(_Echo())
    body = (
        ("\ufeff" if n == 0 else "") + writer.writerow([_csv_cell(cell) for cell in row])
        for n, row in enumerate([header, *rows])
    )
    response = StreamingHttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_GET
@sales_page
def table_csv(request, name: str):
    now = timezone.now()
    table = sales_selectors.sales_table(name=name, scope=request.sales_scope, now=now)
    return csv_response(
        filename=f"sales-{name}-{now:%Y%m%d}.csv",
        header=[label for _, label in table.columns],
        rows=table.cells(),
    )


class OwnerForm(forms.Form):
    rep = forms.ModelChoiceField(queryset=None, required=False, empty_label="Unassigned")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["rep"].queryset = sales.sales_reps_queryset()


@require_GET
@sales_page
def account(request, slug: str):
    found = sales_selectors.sales_account_of(scope=request.sales_scope, slug=slug)
    context = sales_selectors.account_360(account=found)
    if request.sales_scope.is_manager:
        owner = getattr(getattr(found, "sales_owner", None), "rep", None)
        context["owner_form"] = OwnerForm(initial={"rep": owner.pk if owner else None})
    return render(request, "billing/sales/account.html", context | {"scope": request.sales_scope})


@require_GET
@sales_page
def account_invoices_csv(request, slug: str):
    found = sales_selectors.sales_account_of(scope=request.sales_scope, slug=slug)
    # Every invoice (the 360 shows the latest 24 only).
    invoices = sales_selectors.account_invoices(account=found)
    return csv_response(
        filename=f"sales-{found.slug}-invoices.csv",
        header=["Number", "Period start", "Period end", "Currency", "Total", "Status", "Issued", "Due",
                "Paid"],
        rows=[[i.number, i.period_start, i.period_end, i.currency, i.total, i.status, i.issued_at, i.due_at,
               i.paid_at] for i in invoices],
    )  # fmt: skip


@require_POST
@sales_page
def account_owner(request, slug: str):
    if not request.sales_scope.is_manager:
        raise PermissionDenied("Only a sales manager reassigns accounts.")
    found = sales_selectors.sales_account_of(scope=request.sales_scope, slug=slug)
    form = OwnerForm(request.POST)
    if not form.is_valid():
        context = sales_selectors.account_360(account=found) | {
            "owner_form": form,
            "scope": request.sales_scope,
        }
        return render(request, "billing/sales/account.html", context, status=400)
    rep = form.cleaned_data["rep"]
    try:
        sales.sales_owner_assign(account=found, rep=rep, actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"{found.name} now belongs to {rep.email if rep else 'nobody'}.")
    return redirect("sales:account", slug=found.slug)
