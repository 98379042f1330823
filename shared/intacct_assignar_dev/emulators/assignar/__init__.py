"""An Assignar public API v2 emulator on loopback, faithful to the published spec, with an admin API for tests."""

from intacct_assignar_dev.emulators.assignar.emulator import (
    FAULT_KINDS,
    AssignarEmulator,
    RequestLogEntry,
    WebhookConfig,
    WebhookDelivery,
)
from intacct_assignar_dev.emulators.assignar.store import TIMESHEET_STATUSES, EquipmentEntry, LaborEntry

__all__ = [
    "FAULT_KINDS",
    "TIMESHEET_STATUSES",
    "AssignarEmulator",
    "EquipmentEntry",
    "LaborEntry",
    "RequestLogEntry",
    "WebhookConfig",
    "WebhookDelivery",
]
