"""Normalized records: the integration key, and a content hash that changes exactly when a write would."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from intacct_assignar.config import parse_config
from intacct_assignar.inbound.normalize import normalize
from intacct_assignar.inbound.records import (
    Address,
    InboundRecord,
    NormalizedRecord,
    ProjectRecord,
    RecordRef,
    integration_id_for,
    parse_integration_id,
)
from pydantic import TypeAdapter, ValidationError

from .intacct_records import customer, employee, equipment, project, standard_task, task

CONFIG = parse_config(
    {
        "timezone": "America/Denver",
        "workflows": {"work_orders": {"owner_user_id": 12}, "workers": {"position_roles": {"FOREMAN": "LAB-FOREMAN"}}},
    }
)


def samples() -> list[NormalizedRecord]:
    """One record per workflow, with every optional field filled."""
    return [
        normalize("clients", customer(), CONFIG),
        normalize("projects", project(), CONFIG),
        normalize("work_orders", task(), CONFIG),
        normalize("activities", standard_task(), CONFIG),
        normalize("roles", equipment(GLGROUP="Labor"), CONFIG),
        normalize("assets", equipment(), CONFIG),
        normalize("workers", employee(), CONFIG),
    ]


def changed(value: Any) -> Any:
    """A different value of the same kind."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, str):
        return value + " (changed)"
    if isinstance(value, date):
        return value + timedelta(days=1)
    if isinstance(value, Address):
        return value.model_copy(update={"line2": "Unit 9"})
    if isinstance(value, RecordRef):
        return value.model_copy(update={"source_id": "OTHER"})
    if value is None:  # an optional link not set in the sample: setting it is a change
        return RecordRef(workflow="clients", source_id="OTHER")
    raise AssertionError(f"no change defined for {value!r}")


def written_fields(record: InboundRecord) -> list[str]:
    return [name for name in type(record).model_fields if name not in record.not_written and name != "workflow"]


def test_integration_ids_are_built_and_read_by_one_rule() -> None:
    # Given an Intacct object and RECORDNO
    key = integration_id_for("PROJECT", 1234)

    # Then the key reads back, and foreign keys are refused
    assert key == "intacct:PROJECT:1234"
    assert parse_integration_id(key) == ("PROJECT", 1234)
    for foreign in ("int_123456", "intacct:PROJECT:", "intacct::12", "other:PROJECT:1"):
        with pytest.raises(ValueError, match="not an Intacct integration id"):
            parse_integration_id(foreign)


def test_the_same_intacct_record_hashes_the_same_every_time() -> None:
    # Given every workflow's record, normalized twice from the same input
    first, second = samples(), samples()

    # Then the hashes agree, and survive a trip through a message body
    adapter: TypeAdapter[list[NormalizedRecord]] = TypeAdapter(list[NormalizedRecord])
    again = adapter.validate_json(adapter.dump_json(first))
    assert [r.content_hash() for r in first] == [r.content_hash() for r in second] == [r.content_hash() for r in again]
    assert again == first


def test_the_hash_is_pinned_so_it_stays_stable_across_python_versions() -> None:
    # Given a client record built by hand (no mapping involved)
    record = normalize("clients", customer(), CONFIG)

    # Then its hash is the one computed when this test was written: a change here re-writes every tenant's clients
    assert record.content_hash() == PINNED_CLIENT_HASH


@pytest.mark.parametrize(
    ("record", "field"),
    [(record, field) for record in samples() for field in written_fields(record)],
    ids=lambda value: value if isinstance(value, str) else value.workflow,
)
def test_any_written_field_change_changes_the_hash(record: InboundRecord, field: str) -> None:
    # Given a record, and the same record with one written field changed
    # (not_offered: a company that stops offering the postcode's field)
    value = ("postcode",) if field == "not_offered" else changed(getattr(record, field))
    other = record.model_copy(update={field: value})

    # Then the hashes differ
    assert other.content_hash() != record.content_hash()


def test_what_is_not_written_does_not_change_the_hash() -> None:
    # Given a project whose reason, modification time and (work-order-only) dates change
    record = normalize("projects", project(STATUS="inactive"), CONFIG)
    other = record.model_copy(
        update={
            "inactive_reason": "something else",
            "modified_at": datetime(2030, 1, 1, tzinfo=record.modified_at.tzinfo if record.modified_at else None),
            "start_date": date(2020, 1, 1),
            "end_date": None,
        }
    )

    # Then nothing Assignar would receive changed, and neither did the hash
    assert isinstance(other, ProjectRecord)
    assert other.content_hash() == record.content_hash()


def test_a_record_refuses_fields_it_does_not_know() -> None:
    # Given a message body from a producer with a field this version does not know
    body = normalize("activities", standard_task(), CONFIG).model_dump(mode="json") | {"colour": "red"}

    # Then it does not validate (it is reported, not half-read)
    with pytest.raises(ValidationError, match="colour"):
        TypeAdapter(NormalizedRecord).validate_python(body)


def test_records_cannot_be_changed_in_place() -> None:
    record = normalize("clients", customer(), CONFIG)
    with pytest.raises(ValidationError, match="frozen"):
        record.name = "Other"  # type: ignore[misc]  # the point of the test


PINNED_CLIENT_HASH = "328ac26d484851f3ea8e3f587027fbe9099bf056321b6eb2cb1f68121d0d9534"
