import os

from django.core.exceptions import ImproperlyConfigured
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

from django.conf import settings  # noqa: E402 - after DJANGO_SETTINGS_MODULE is set

# Checked here, when the portal starts serving (gunicorn and runserver both load this module),
# not in settings: commands such as `oidc_keygen` must run before the key exists.
if not settings.IDP_OIDC_PRIVATE_KEY.strip():
    raise ImproperlyConfigured(
        f"Atrium has no OIDC signing key: {settings.OIDC_SIGNING_KEY_FILE} does not exist or is empty. "
        "Create it with `python manage.py oidc_keygen` (or point ATRIUM_OIDC_KEY_FILE at an RS256 PEM key)."
    )

application = get_wsgi_application()
