"""Assignar's envelope and error messages, typed: what each answer becomes in the client."""

from __future__ import annotations

import json

import pytest
from intacct_assignar.assignar import (
    AssignarError,
    AuthenticationError,
    ForeignKeyConstraintError,
    NotFoundError,
    RateLimitedError,
    ServerError,
    UniqueConstraintError,
    ValidationError,
)
from intacct_assignar.assignar.envelope import parse_envelope
from intacct_assignar.assignar.errors import assignar_message, error_for_response


def body(value: object) -> bytes:
    return json.dumps(value).encode()


@pytest.mark.parametrize(
    ("status", "payload", "expected", "field"),
    [
        (400, {"message": "[400] Unique Constraint Error - external_id"}, UniqueConstraintError, "external_id"),
        (400, {"message": "[400] Unique Constraint Error - email"}, UniqueConstraintError, "email"),
        (400, {"message": "[400] Foreign Key Constraint Error"}, ForeignKeyConstraintError, None),
        (400, {"message": "[400] Foreign Key Constraint Error - client_id"}, ForeignKeyConstraintError, "client_id"),
        (400, {"message": "[400] Missing payload."}, ValidationError, None),
        (404, {"message": "[404] Object Not Found - Skill (id:987654)"}, NotFoundError, None),
        (
            404,
            {"errorType": "NotFound", "errorMessage": "[404] Object Not Found - AssetAttachment (id)", "trace": []},
            NotFoundError,
            None,
        ),
        (401, {"message": "Unauthorized"}, AuthenticationError, None),
        (403, {"message": "Forbidden"}, AuthenticationError, None),
        (429, {"message": "Too Many Requests"}, RateLimitedError, None),
        (500, {"message": "something went wrong."}, ServerError, None),
        (502, {}, ServerError, None),
    ],
)
def test_errors_are_typed_from_assignars_status_and_message(
    status: int, payload: object, expected: type[AssignarError], field: str | None
) -> None:
    # When Assignar answers with an error
    error = error_for_response(status, body(payload), method="POST", path="clients/")

    # Then the client raises the matching type, with the call and Assignar's own words
    assert type(error) is expected
    assert getattr(error, "field", None) == field
    assert error.status == status
    assert "POST clients/" in str(error)


def test_an_error_carries_assignars_message_for_the_person_fixing_it() -> None:
    error = error_for_response(
        400, body({"message": "[400] Unique Constraint Error - external_id"}), method="POST", path="tasks"
    )
    assert "external_id" in str(error)
    assert "Assignar said: [400] Unique Constraint Error - external_id" in str(error)


def test_a_non_json_error_body_is_kept_as_text() -> None:
    assert assignar_message(b"<html>Bad Gateway</html>") == "<html>Bad Gateway</html>"
    assert assignar_message(b"") is None


def test_a_list_envelope_gives_its_rows_and_count() -> None:
    envelope = parse_envelope(
        200, body({"status": 200, "data": [{"id": 1}, {"id": 2}], "count": 2}), method="GET", path="users"
    )
    assert envelope.rows == [{"id": 1}, {"id": 2}]
    assert envelope.count == 2


def test_the_timesheet_list_shape_gives_its_rows() -> None:
    envelope = parse_envelope(
        200, body({"status": 200, "data": {"count": 1, "rows": [{"id": 9}]}}), method="GET", path="timesheets-expanded"
    )
    assert envelope.rows == [{"id": 9}]


def test_an_empty_204_is_an_empty_envelope() -> None:
    envelope = parse_envelope(204, b"", method="PUT", path="clients/1")
    assert envelope.status == 204
    assert envelope.data is None


def test_a_put_answered_with_a_204_body_is_success() -> None:
    assert parse_envelope(200, body({"status": 204}), method="PUT", path="users/1").status == 204


def test_an_error_status_inside_a_200_envelope_is_raised() -> None:
    with pytest.raises(UniqueConstraintError):
        parse_envelope(
            200, body({"status": 400, "message": "[400] Unique Constraint Error - name"}), method="POST", path="tasks"
        )


@pytest.mark.parametrize("raw", [b"not json", b"[1, 2]"])
def test_something_other_than_the_envelope_is_a_server_error(raw: bytes) -> None:
    with pytest.raises(ServerError):
        parse_envelope(200, raw, method="GET", path="users")


def test_a_record_answer_without_a_list_is_refused_where_a_list_was_asked() -> None:
    envelope = parse_envelope(200, body({"status": 200, "data": {"id": 1}}), method="GET", path="users")
    with pytest.raises(ServerError):
        _ = envelope.rows
