"""REST API v1 for plans, subscriptions and invoices (billing/api.py); schema at /api/schema/."""

from django.urls import path

from billing import api

app_name = "billing_api"

ACCOUNT = "accounts/<slug:slug>/"
SUBSCRIPTION = f"{ACCOUNT}subscriptions/<int:pk>/"

urlpatterns = [
    path("plans/", api.PlansAPI.as_view(), name="plans"),
    path(f"{ACCOUNT}subscriptions/", api.SubscriptionsAPI.as_view(), name="subscriptions"),
    path(SUBSCRIPTION, api.SubscriptionAPI.as_view(), name="subscription"),
    path(f"{SUBSCRIPTION}seats/", api.SubscriptionSeatsAPI.as_view(), name="subscription_seats"),
    path(f"{SUBSCRIPTION}plan/", api.SubscriptionPlanAPI.as_view(), name="subscription_plan"),
    path(f"{SUBSCRIPTION}cancel/", api.SubscriptionCancelAPI.as_view(), name="subscription_cancel"),
    path(
        f"{SUBSCRIPTION}reactivate/", api.SubscriptionReactivateAPI.as_view(), name="subscription_reactivate"
    ),
    path(f"{ACCOUNT}invoices/", api.InvoicesAPI.as_view(), name="invoices"),
    path(f"{ACCOUNT}invoices/<str:number>/", api.InvoiceAPI.as_view(), name="invoice"),
]
