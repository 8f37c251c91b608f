"""Reads of Security Posture's alerts: counts in one query, lists in one query."""

from django.db.models import Count, Q

from posture.models import Alert, Scan

Severity = Alert.Severity
STATUS_FILTERS = {
    "open": Q(status=Alert.Status.OPEN),
    "resolved": Q(status=Alert.Status.RESOLVED),
    "all": Q(),
}
SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2}


def alerts_counts(*, tenant) -> dict:
    """`{"open": n, "by_severity": {"high", "medium", "low"}}` of the tenant's open alerts."""
    counts = Alert.objects.filter(tenant=tenant, status=Alert.Status.OPEN).aggregate(
        open=Count("pk"), **{s: Count("pk", filter=Q(severity=s)) for s in Severity.values}
    )
    return {"open": counts["open"], "by_severity": {s: counts[s] for s in Severity.values}}


def alerts_list(*, tenant, status: str = "open") -> list[Alert]:
    """The tenant's alerts with that status filter, most severe first, then newest."""
    alerts = list(Alert.objects.filter(STATUS_FILTERS[status], tenant=tenant))
    alerts.sort(
        key=lambda a: (a.status != "open", SEVERITY_ORDER[a.severity], -a.first_seen_at.timestamp(), a.pk)
    )
    return alerts


def last_scan(*, tenant) -> Scan | None:
    return Scan.objects.filter(tenant=tenant).order_by("-started_at", "-pk").first()
