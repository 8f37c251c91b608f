from celery import shared_task

from accounts import services


# Finishes removals every region confirmed but whose confirmation signal was lost (a worker
# killed between acknowledging and signalling). Idempotent; a bounded batch per run.
@shared_task(soft_time_limit=60, time_limit=90)
def finish_confirmed_removals() -> int:
    return services.membership_removals_sweep()
