from django.http import JsonResponse
from django.shortcuts import render

from atrium_kit.machine_auth import machine_view
from atrium_kit.products import product_view


@product_view("fifth")
def index(request):
    return render(request, "fifth/index.html", {"greeting": f"Hello {request.tenant.slug}"})


def undecorated(request):
    # Forgot @product_view on purpose: the kit checks the entitlement all the same.
    return JsonResponse({"tenant": request.user.tenant.slug, "entitlement": request.entitlement["status"]})


@machine_view(scope="tenant")
def ping(request, tenant: str):
    return JsonResponse({"tenant": tenant, "client_id": request.user.client_id})


@machine_view(scope="fifth:write")
def write(request, tenant: str):
    return JsonResponse({"written": tenant})
