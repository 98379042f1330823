"""Which of the two outcomes each failure the consumers meet stands for, and that the old names still behave."""

from __future__ import annotations

import pytest
from intacct_assignar.assignar.errors import RateLimitedError, ServerError, TransportError
from intacct_assignar.inbound.messages import MessageError, SyncMessage
from intacct_assignar.inbound.upsert import DependencyNotReady, UpsertRefused
from intacct_assignar.intacct.errors import (
    IntacctOutcomeUnknownError,
    IntacctRateLimitError,
    IntacctTransientError,
)
from intacct_assignar.outbound.documents import UnpostableError
from intacct_assignar.outbound.messages import PushMessage, PushMessageError
from intacct_assignar.outbound.results import PostingIncompleteError, TimesheetBusyError
from intacct_assignar.outcomes import NotDone, ParkForPerson, RetryLater
from intacct_assignar.state import LeaseLostError, StateUnavailableError


@pytest.mark.parametrize(
    ("error", "outcome"),
    [
        (DependencyNotReady("workers E-1 waits for roles LAB to be in Assignar"), RetryLater),
        (TimesheetBusyError("timesheet 7 is being posted by another worker"), RetryLater),
        (PostingIncompleteError("timesheet 7: Intacct's answer was lost"), RetryLater),
        (LeaseLostError(7, attempt=2), RetryLater),
        (StateUnavailableError("DynamoDB kept throttling"), RetryLater),
        # The clients' outages pass by themselves: the queue brings the work back.
        (IntacctRateLimitError("GW-0010 too many requests"), RetryLater),
        (IntacctTransientError("HTTP 503"), RetryLater),
        (IntacctOutcomeUnknownError("HTTP 524 after sending"), RetryLater),
        (RateLimitedError("[429] Too Many Requests"), RetryLater),
        (ServerError("[503] Service Unavailable"), RetryLater),
        (TransportError("connection dropped", may_have_landed=False), RetryLater),
        (UpsertRefused("Assignar refused it: name is required"), ParkForPerson),
        (MessageError("not a valid sync message"), ParkForPerson),
        (PushMessageError("not a valid push message"), ParkForPerson),
        (UnpostableError(7, "it has no start date"), ParkForPerson),
    ],
)
def test_each_failure_says_what_happens_next(error: Exception, outcome: type[NotDone]) -> None:
    other = ParkForPerson if outcome is RetryLater else RetryLater
    assert isinstance(error, outcome) and not isinstance(error, other)


def test_a_reason_for_a_person_is_the_message_unless_the_error_keeps_a_shorter_one() -> None:
    assert UpsertRefused("Assignar refused it").reason == "Assignar refused it"
    unpostable = UnpostableError(7, "worker W-1 has no Intacct ID: set their employee_id")
    assert str(unpostable) == "timesheet 7: worker W-1 has no Intacct ID: set their employee_id"
    assert unpostable.reason == "worker W-1 has no Intacct ID: set their employee_id" and unpostable.timesheet_id == 7


def test_bad_bodies_are_still_value_errors_carrying_what_is_wrong() -> None:
    for read in (SyncMessage.from_body, PushMessage.from_body):
        with pytest.raises(ValueError, match="not a valid") as refused:
            read('{"version": 2}')
        assert isinstance(refused.value, ParkForPerson) and refused.value.reason == str(refused.value)
