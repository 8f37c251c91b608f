import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")


@app.on_configure.connect
def _filesystem_broker_folders(sender, **kwargs):
    """The filesystem broker (demo) needs its folders before the first message."""
    from django.conf import settings

    for folder in settings.CELERY_BROKER_FOLDERS:
        folder.mkdir(parents=True, exist_ok=True)


app.autodiscover_tasks()
