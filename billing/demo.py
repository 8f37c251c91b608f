"""Demo plans and Acme's paid Backup (called by portal/management/commands/load_demo.py). Made once:
staff may change plans afterwards in the admin, and a restart keeps that."""

from decimal import Decimal

from django.db import transaction

from accounts.models import Account
from billing.models import Plan, PlanChange, Subscription
from billing.services import subscription_convert_trial
from products.models import Product

# Per seat, standard tier per month; yearly is 10 months' price, pro is 1.5 × standard.
MONTHLY = {
    "backup": {"USD": "10.00", "EUR": "9.00", "AUD": "15.00"},
    "posture": {"USD": "8.00", "EUR": "7.50", "AUD": "12.00"},
    "archiver": {"USD": "5.00", "EUR": "4.50", "AUD": "7.50"},
}
TIERS = (("standard", "Standard", Decimal("1")), ("pro", "Pro", Decimal("1.5")))
INTERVALS = (("month", "monthly", 1), ("year", "yearly", 10))


def demo_plans_ensure() -> int:
    made = 0
    for code, prices in MONTHLY.items():
        product = Product.objects.filter(code=code).first()
        if product is None:
            continue
        position = 0
        for currency, monthly in prices.items():
            for tier, tier_name, factor in TIERS:
                for interval, interval_name, months in INTERVALS:
                    position += 1
                    _, created = Plan.objects.get_or_create(
                        product=product,
                        code=f"{tier}-{interval_name}-{currency.lower()}",
                        defaults={
                            "name": f"{tier_name} {interval_name} ({currency})",
                            "interval": interval,
                            "currency": currency,
                            "unit_price": (Decimal(monthly) * factor * months).quantize(Decimal("0.01")),
                            "position": position,
                        },
                    )
                    made += created
        _plan_changes(product)
    return made


def _plan_changes(product: Product) -> None:
    """Standard → pro is an upgrade (now, prorated); pro → standard and any change of interval wait
    for the period's end (downgrade pairs). Pairs only within one currency."""
    plans = {plan.code: plan for plan in Plan.objects.filter(product=product)}
    up, down = PlanChange.Direction.UPGRADE, PlanChange.Direction.DOWNGRADE
    for currency in ("usd", "eur", "aud"):
        for interval in ("monthly", "yearly"):
            pairs = [
                (f"standard-{interval}-{currency}", f"pro-{interval}-{currency}", up),
                (f"pro-{interval}-{currency}", f"standard-{interval}-{currency}", down),
            ]
            other = "yearly" if interval == "monthly" else "monthly"
            for tier in ("standard", "pro"):
                pairs.append((f"{tier}-{interval}-{currency}", f"{tier}-{other}-{currency}", down))
            for source, target, direction in pairs:
                if source in plans and target in plans:
                    PlanChange.objects.get_or_create(
                        from_plan=plans[source], to_plan=plans[target], defaults={"direction": direction}
                    )


@transaction.atomic
def demo_billing_ensure() -> str:
    """Plans, then Acme's Backup as a paid subscription (US, EU and AU seats) with its first invoice."""
    demo_plans_ensure()
    acme = Account.objects.filter(slug="acme").first()
    backup = Product.objects.filter(code="backup").first()
    plan = Plan.objects.filter(product=backup, code="standard-monthly-usd").first() if backup else None
    if acme is None or plan is None:
        return "no Acme or no Backup plan"
    live = Subscription.objects.filter(account=acme, product=backup).exclude(
        status=Subscription.Status.CANCELLED
    )
    if live.exists():
        return "Acme already subscribes to Backup"
    subscription = subscription_convert_trial(
        account=acme, product=backup, plan=plan, seats_by_region={"us": 3, "eu": 5, "au": 2}, actor=None
    )
    return f"Acme subscribes to Backup: invoice {subscription.invoices.get().number}"
