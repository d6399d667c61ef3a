"""When a response arrived (whether that was late is `domain.deadlines.is_late`)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal, Protocol

TimeSource = Literal["received", "date", "import"]


class DatedMessage(Protocol):
    """What `received_time` reads of a parsed message (`domain.email_intake.ParsedMessage`)."""

    @property
    def date(self) -> datetime | None: ...

    @property
    def received_times(self) -> tuple[datetime, ...]: ...


# A header time this long before the import is a broken clock (1970, an unset RTC),
# not a real arrival; ten years still admits importing an old archive.
MAX_HEADER_AGE = timedelta(days=3653)


def _trusted(moment: datetime | None, import_time: datetime, max_age: timedelta) -> bool:
    return moment is not None and import_time - max_age <= moment <= import_time


def received_time(
    parsed: DatedMessage, import_time: datetime, max_age: timedelta = MAX_HEADER_AGE
) -> tuple[datetime, TimeSource]:
    """When the message arrived, and from where that was taken.

    The newest Received header time that is neither after `import_time` nor more
    than `max_age` before it (our own server's header, normally); else the Date
    header under the same rule; else `import_time`.
    """
    if import_time.tzinfo is None:
        raise ValueError("received_time needs an aware import_time")
    trusted = [t for t in parsed.received_times if _trusted(t, import_time, max_age)]
    if trusted:
        return max(trusted), "received"
    if parsed.date is not None and _trusted(parsed.date, import_time, max_age):
        return parsed.date, "date"
    return import_time, "import"
