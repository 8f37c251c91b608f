from django.urls import path

from billing import api_sales, views_sales

app_name = "sales"

urlpatterns = [
    path("", views_sales.dashboard, name="dashboard"),
    path("export/<slug:name>.csv", views_sales.table_csv, name="table_csv"),
    path("api/", api_sales.tables_index, name="api_index"),
    path("api/<slug:name>/", api_sales.table_json, name="table_json"),
    path("accounts/<slug:slug>/", views_sales.account, name="account"),
    path("accounts/<slug:slug>/invoices.csv", views_sales.account_invoices_csv, name="account_invoices_csv"),
    path("accounts/<slug:slug>/owner/", views_sales.account_owner, name="account_owner"),
]
