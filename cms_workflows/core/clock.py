"""One clock and one time zone for every date the system records.

Moments are stored in UTC; days (assignment validity, effective dates, periods, due dates) are
local days in the installation's time zone (`CMS_TIMEZONE`, default Asia/Shanghai), so a
decision taken at 07:35 in Changsha is dated that day whatever the host's zone. Tests and the
sweep of scheduled duties pass a `FixedClock` to run a day or a year without waiting.
"""

from __future__ import annotations

from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo


def utcnow() -> datetime:
    """A UTC moment (model defaults; services take theirs from the unit of work's clock)."""
    return datetime.now(timezone.utc)


class Clock:
    def __init__(self, zone: str = "Asia/Shanghai") -> None:
        self.zone = ZoneInfo(zone)

    def now(self) -> datetime:
        """The current moment, UTC, timezone-aware (SQLModel refuses naive datetimes)."""
        return datetime.now(timezone.utc)

    def today(self) -> date:
        """The local day in the installation's time zone."""
        return self.now().astimezone(self.zone).date()

    def local(self, moment: datetime) -> datetime:
        if moment.tzinfo is None:  # SQLite returns stored UTC moments without their zone
            moment = moment.replace(tzinfo=timezone.utc)
        return moment.astimezone(self.zone)

    def start_of(self, day: date) -> datetime:
        """The UTC moment a local day begins."""
        return datetime.combine(day, time.min, self.zone).astimezone(timezone.utc)


class FixedClock(Clock):
    """A clock standing at a given moment (tests, catching up on missed days)."""

    def __init__(self, moment: datetime, zone: str = "Asia/Shanghai") -> None:
        super().__init__(zone)
        self.moment = moment if moment.tzinfo else moment.replace(tzinfo=self.zone)

    def now(self) -> datetime:
        return self.moment.astimezone(timezone.utc)
