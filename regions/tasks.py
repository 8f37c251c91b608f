from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded

from regions import ledger


# Deliveries are idempotent (create-or-update by externalId), leased per row and fenced, so a
# task that runs twice or is re-enqueued by the sweeper does no harm. Time limit: a few region
# calls; hitting the soft limit is recorded as a retryable region error.
@shared_task(acks_late=True, soft_time_limit=60, time_limit=90)
def push_record(record_id: int, dispatch: str | None = None) -> str:
    return ledger.ledger_push(record_id=record_id, dispatch=dispatch, interruptions=(SoftTimeLimitExceeded,))


@shared_task(soft_time_limit=60, time_limit=90)
def sweep_due_pushes() -> int:
    return ledger.ledger_sweep()
