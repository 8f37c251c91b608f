"""/profile/: a person's own name, email (verified), password link, accounts, data export
and identity deletion. Thin: each view parses input and calls one service of accounts/profile.py."""

import json

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from accounts import profile, selectors
from accounts.forms_profile import EmailChangeForm, IdentityDeleteForm, ProfileNameForm


def _profile_page(request, *, name_form=None, email_form=None, status: int = 200):
    user = request.user
    context = {
        "name_form": name_form
        or ProfileNameForm(initial={"first_name": user.first_name, "last_name": user.last_name}),
        "email_form": email_form or EmailChangeForm(),
        "memberships": list(selectors.memberships_of_user(user=user)),
    }
    return render(request, "accounts/profile.html", context, status=status)


@login_required
@require_GET
def profile_index(request):
    return _profile_page(request)


@login_required
@require_POST
def profile_name(request):
    form = ProfileNameForm(request.POST)
    if not form.is_valid():
        return _profile_page(request, name_form=form, status=400)
    profile.profile_update_names(user=request.user, **form.cleaned_data)
    messages.success(request, "Your name is changed here and in every region of your accounts.")
    return redirect("profile:index")


@login_required
@require_POST
def profile_email(request):
    form = EmailChangeForm(request.POST)
    if form.is_valid():
        try:
            sent_to = profile.email_change_request(
                user=request.user, new_email=form.cleaned_data["new_email"]
            )
        except ValidationError as exc:
            form.add_error(None, exc)  # a field's error lands on that field
        else:
            messages.success(
                request,
                f"We sent a link to {sent_to}. Your email changes when you open it; "
                f"until then it stays {request.user.email}.",
            )
            return redirect("profile:index")
    return _profile_page(request, email_form=form, status=400)


@login_required
def profile_email_confirm(request, token: str):
    try:
        if request.method == "POST":
            user = profile.email_change_confirm(user=request.user, token=token)
        else:
            change = profile.email_change_check(user=request.user, token=token)
    except ValidationError as exc:
        context = {"error": " ".join(exc.messages), "code": exc.code}
        return render(request, "accounts/profile_email_invalid.html", context, status=400)
    if request.method == "POST":
        messages.success(
            request, f"Your email is now {user.email}, here and in every region of your accounts."
        )
        return redirect("profile:index")
    return render(request, "accounts/profile_email_confirm.html", {"change": change, "token": token})


@login_required
@require_GET
def profile_export(request):
    data = profile.profile_data_export(user=request.user)
    response = HttpResponse(
        json.dumps(data, indent=2, ensure_ascii=False), content_type="application/json; charset=utf-8"
    )
    stamp = timezone.now().strftime("%Y%m%d")
    response["Content-Disposition"] = f'attachment; filename="atrium-my-data-{stamp}.json"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
def profile_delete(request):
    user = request.user
    form = IdentityDeleteForm(request.POST or None, user=user)
    context = {"form": form, "sole_accounts": profile.accounts_only_owned_by(user)}
    if request.method == "POST" and form.is_valid():
        try:
            profile.identity_delete(user=user)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            logout(request)
            messages.success(request, "Your Atrium identity is deleted; every region is removing you now.")
            return redirect("account_login")
    return render(request, "accounts/profile_delete.html", context, status=400 if form.is_bound else 200)
