"""The demo's cross-sell rule (backup → posture): made once by load_demo, and it shows to Globex
(Backup only) but not to Acme (which already tries Security Posture)."""

import io

from django.core.management import call_command

from accounts.models import Account
from products.crosssell import crosssell_panel
from products.models import CrossSellRule


def test_the_demo_has_one_backup_to_posture_rule_that_recommends_posture_to_globex(db):
    call_command("load_demo", stdout=io.StringIO())
    call_command("load_demo", stdout=io.StringIO())
    rule = CrossSellRule.objects.get()
    assert (rule.when_product.code, rule.recommend_product.code, rule.active) == ("backup", "posture", True)
    globex = crosssell_panel(account=Account.objects.get(slug="globex"))
    assert [r.product.code for r in globex["recommendations"]] == ["posture"]
    assert crosssell_panel(account=Account.objects.get(slug="acme"))["recommendations"] == []
