from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import redirect, render

from accounts import selectors as account_selectors


@login_required
def dashboard(request):
    memberships = list(account_selectors.memberships_of_user(user=request.user))
    if len(memberships) == 1:
        return redirect("accounts:home", slug=memberships[0].account.slug)
    return render(request, "dashboard.html", {"memberships": memberships})


def healthz(request):
    return JsonResponse({"status": "ok"})
