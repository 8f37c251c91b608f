"""The account's audit log: a filtered, paginated table and its CSV export. Read-only: the
app has no way to edit or delete an audit row (AuditEvent refuses both)."""

import csv

from django.http import StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from accounts import permissions, selectors, selectors_audit
from accounts.forms_audit import AuditFilterForm
from accounts.views import account_page

# A cell starting with one of these is a formula to Excel, LibreOffice and Sheets (OWASP CSV
# injection); a leading quote makes it text. Tab and carriage return are on OWASP's list too.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: str) -> str:
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value


class _Echo:
    """csv.writer writes a row into this and returns it, so rows stream one at a time."""

    def write(self, value: str) -> str:
        return value


def _viewer(request, slug: str):
    membership = selectors.membership_for_page(user=request.user, slug=slug)
    permissions.require(membership, "audit.view")
    return membership


def _filters(form: AuditFilterForm) -> selectors_audit.AuditFilters:
    return selectors_audit.AuditFilters(**form.cleaned_data)


@account_page
@require_GET
def audit_log(request, slug: str):
    membership = _viewer(request, slug)
    account = membership.account
    form = AuditFilterForm(request.GET, account=account)
    context = {
        "account": account,
        "membership": membership,
        "form": form,
        "actions": selectors_audit.audit_actions_of_account(account=account),
    }
    if not form.is_valid():
        return render(request, "accounts/audit.html", {**context, "page": None}, status=400)
    page = selectors_audit.audit_page(
        account=account, filters=_filters(form), page_number=request.GET.get("page")
    )
    return render(request, "accounts/audit.html", {**context, "page": page})


@account_page
@require_GET
def audit_csv(request, slug: str):
    membership = _viewer(request, slug)
    account = membership.account
    form = AuditFilterForm(request.GET, account=account)
    if not form.is_valid():
        context = {"account": account, "membership": membership, "form": form, "page": None, "actions": []}
        return render(request, "accounts/audit.html", context, status=400)
    rows = selectors_audit.audit_csv_rows(account=account, filters=_filters(form))
    writer = csv.writer(_Echo())
    # A byte-order mark, so spreadsheet programs read the file as UTF-8.
    body = (
        ("\ufeff" if n == 0 else "") + writer.writerow([csv_safe(cell) for cell in row])
        for n, row in enumerate(rows)
    )
    response = StreamingHttpResponse(body, content_type="text/csv; charset=utf-8")
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="audit-{account.slug}-{stamp}.csv"'
    response["Cache-Control"] = "no-store"
    return response
