"""The one clock the inbound tests move: service time (aware) and the emulated company's local time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

ZONE = ZoneInfo("America/Denver")
START = datetime(2026, 11, 20, 9, 0, tzinfo=ZONE)


@dataclass
class Clock:
    at: datetime = START

    def __call__(self) -> datetime:
        return self.at

    def company(self) -> datetime:
        """Intacct's zone-less local time, as the emulated company's store stamps records."""
        return self.at.astimezone(ZONE).replace(tzinfo=None)
