"""The two ways work that did not get done ends, whichever queue it came from: it comes back later by itself, or
it waits for a person, with a reason that person can act on.

Services raise a subclass of one of them, named for what happened (`DependencyNotReady`, `UpsertRefused`,
`TimesheetBusyError`...), and so do the clients for an outage that passes by itself (Intacct's and Assignar's rate
limits, 5xx, dropped connections, a lost answer). The queue consumer (`consumer.py`) only needs to know which of the
two it is. What is neither (a refused password, a bug) is handled as `RetryLater`, and its reason on the last
delivery names its type: retrying is harmless, and a person sees it either way.
"""

from __future__ import annotations


class NotDone(Exception):
    """The work was not done this time; the subclass says what happens next."""


class RetryLater(NotDone):
    """The same work can succeed later without anyone doing anything: a dependency not in Assignar yet, a timesheet
    another worker holds, Intacct's answer lost and still in doubt, a service unavailable. The queue brings it back;
    on its last delivery it is parked with this message as the reason."""


class ParkForPerson(NotDone):
    """Retrying cannot help until a person changes something (a bad message body, a record Assignar refuses, a
    timesheet Intacct refuses): parked at once with `reason`, which says what to fix."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
