from django.urls import path

from billing import views

app_name = "billing"

urlpatterns = [
    path("", views.billing_home, name="home"),
    path("subscribe/<slug:code>/", views.subscribe, name="subscribe"),
    path("subscriptions/<int:pk>/seats/", views.change_seats, name="seats"),
    path("subscriptions/<int:pk>/plan/", views.change_plan, name="plan"),
    path("subscriptions/<int:pk>/cancel/", views.cancel, name="cancel"),
    path("invoices.csv", views.invoices_csv, name="invoices_csv"),
    path("invoices/<str:number>.csv", views.invoice_csv, name="invoice_csv"),
    path("invoices/<str:number>/", views.invoice_detail, name="invoice"),
]
