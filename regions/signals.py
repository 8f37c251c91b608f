"""Signals the ledger sends, so the apps that own the data can react without `regions`
importing them (dependencies point one way: accounts → regions)."""

from django.dispatch import Signal

# Sent by the worker once a row is acknowledged at its desired version (state `synced`),
# outside any transaction. kwargs: record (ProvisioningRecord; `record.is_deletion` tells a
# confirmed removal). Receivers must be idempotent: a row may be confirmed more than once.
record_synced = Signal()
