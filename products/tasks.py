from celery import shared_task

from products import trials


# Expires trials whose end passed and mails the 7-day and 1-day reminders, each once.
# Idempotent; scheduled by portal/settings.py CELERY_BEAT_SCHEDULE.
@shared_task(soft_time_limit=120, time_limit=180)
def sweep_trials() -> dict[str, int]:
    return trials.trials_sweep()
