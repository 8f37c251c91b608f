"""The catalog and a tenant's products on Atrium's machine port (portal/urls_machine.py), behind
the same region authentication as the users and groups (accounts/api_directory.py)."""

from accounts.api_directory import directory_endpoint
from accounts.directory import directory_account
from accounts.machine_tokens import MachineCaller
from products.directory import directory_catalog, directory_tenant


@directory_endpoint
def catalog(request, caller: MachineCaller) -> dict:
    return directory_catalog()


@directory_endpoint
def tenant(request, caller: MachineCaller, slug: str) -> dict:
    return directory_tenant(account=directory_account(region=caller.region, slug=slug))
