import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")


@app.on_configure.connect
def _filesystem_broker_folders(sender, **kwargs):
    """The filesystem broker (demo) needs its folders to exist before the first message."""
    from django.conf import settings

    if not str(settings.CELERY_BROKER_URL).startswith("filesystem://"):
        return
    queue = settings.CELERY_BROKER_FOLDER / "queue"
    processed = settings.CELERY_BROKER_FOLDER / "processed"
    queue.mkdir(parents=True, exist_ok=True)
    processed.mkdir(parents=True, exist_ok=True)
    sender.conf.broker_transport_options = {
        "data_folder_in": str(queue),
        "data_folder_out": str(queue),
        "processed_folder": str(processed),
    }


app.autodiscover_tasks()
