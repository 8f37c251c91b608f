from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from accounts import selectors
from regions import selectors as region_selectors


@login_required
def account_home(request, slug: str):
    membership = selectors.membership_for_page(user=request.user, slug=slug)
    account = membership.account
    context = {
        "account": account,
        "membership": membership,
        "members": list(selectors.account_members_list(account=account)),
        "regions": list(region_selectors.regions_of_account(account_id=account.pk)),
    }
    return render(request, "accounts/home.html", context)
