"""{% upsell_offers entry membership as offers %}: the regions the product page offers to add
(products.upsell.upsell_offers), for detail.html without changing its view."""

from django import template

from products import upsell

register = template.Library()


@register.simple_tag
def upsell_offers(entry, membership):
    return upsell.upsell_offers(entry=entry, membership=membership)
