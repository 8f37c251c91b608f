from celery import shared_task

from regions import ledger


# Deliveries are idempotent (create-or-update by externalId) and leased per row, so a task
# that runs twice or is re-enqueued by the sweeper does no harm. Time limit: a few region calls.
@shared_task(acks_late=True, soft_time_limit=60, time_limit=90)
def push_record(record_id: int) -> str:
    return ledger.ledger_push(record_id=record_id)


@shared_task(soft_time_limit=60, time_limit=90)
def sweep_due_pushes() -> int:
    return ledger.ledger_sweep()
