"""readByQuery's SQL-like query strings: grammar, legacy codes, escapes and refusals."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest
from intacct_assignar_dev.emulators.intacct import IntacctError
from intacct_assignar_dev.emulators.intacct.filters import compile_condition
from intacct_assignar_dev.emulators.intacct.readbyquery import parse_read_by_query, tokenize
from intacct_assignar_dev.emulators.intacct.schema import OBJECTS

EMPLOYEES: list[dict[str, Any]] = [
    {"RECORDNO": 1, "EMPLOYEEID": "E1", "STATUS": "active", "DEPARTMENTID": "FIELD", "TITLE": "O'Brien's crew",
     "WHENMODIFIED": datetime(2024, 6, 1, 8, 0), "BIRTHDATE": date(1980, 1, 2)},
    {"RECORDNO": 2, "EMPLOYEEID": "E2", "STATUS": "inactive", "DEPARTMENTID": "SHOP", "TITLE": None,
     "WHENMODIFIED": datetime(2024, 6, 2, 8, 0), "BIRTHDATE": None},
    {"RECORDNO": 3, "EMPLOYEEID": "E3", "STATUS": "active", "DEPARTMENTID": "OFFICE", "TITLE": "Estimator",
     "WHENMODIFIED": datetime(2024, 6, 3, 8, 0), "BIRTHDATE": date(1999, 5, 5)},
]  # fmt: skip


def _matching(text: str, obj: str = "EMPLOYEE") -> list[str]:
    condition = parse_read_by_query(OBJECTS[obj], text)
    if condition is None:
        return [row["EMPLOYEEID"] for row in EMPLOYEES]
    test = compile_condition(condition)
    return [row["EMPLOYEEID"] for row in EMPLOYEES if test(row)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ["E1", "E2", "E3"]),
        ("STATUS = 'T'", ["E1", "E3"]),
        ("STATUS = 'F'", ["E2"]),
        ("status = 'active'", ["E1", "E3"]),
        ("DEPARTMENTID != 'FIELD'", ["E2", "E3"]),
        ("DEPARTMENTID <> 'FIELD'", ["E2", "E3"]),
        ("WHENMODIFIED >= '06/02/2024 08:00:00'", ["E2", "E3"]),
        ("WHENMODIFIED < '06/02/2024 00:00:00'", ["E1"]),
        ("BIRTHDATE <= '01/02/1980'", ["E1"]),
        ("BIRTHDATE > '01/02/1980'", ["E3"]),
        ("RECORDNO > 1 AND RECORDNO <= 3", ["E2", "E3"]),
        ("DEPARTMENTID in ('FIELD', 'OFFICE')", ["E1", "E3"]),
        ("DEPARTMENTID not in ('FIELD', 'OFFICE')", ["E2"]),
        ("TITLE like 'Est%'", ["E3"]),
        ("TITLE not like 'Est%'", ["E1"]),
        ("TITLE = 'O\\'Brien\\'s crew'", ["E1"]),
        ("TITLE IS NULL", ["E2"]),
        ("TITLE is not null", ["E1", "E3"]),
        ("STATUS = 'T' AND DEPARTMENTID = 'FIELD' OR DEPARTMENTID = 'SHOP'", ["E1", "E2"]),
        ("STATUS = 'T' AND (DEPARTMENTID = 'FIELD' OR DEPARTMENTID = 'SHOP')", ["E1"]),
        ("NOT STATUS = 'T'", ["E2"]),
        ("NOT (STATUS = 'T' OR RECORDNO = 2)", []),
    ],
)
def test_query_strings(text: str, expected: list[str]) -> None:
    # Given three employees
    # When a readByQuery string is applied
    found = _matching(text)

    # Then it selects what SQL would
    assert found == expected


def test_legacy_state_codes_for_timesheets() -> None:
    # Given readByQuery uses one-letter STATE codes for timesheets
    condition = parse_read_by_query(OBJECTS["TIMESHEET"], "STATE = 'S'")
    assert condition is not None

    # When the condition is applied
    test = compile_condition(condition)

    # Then 'S' means Submitted
    assert test({"STATE": "Submitted"})
    assert not test({"STATE": "Draft"})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("STATUS = ", "expected a quoted value or a number"),
        ("STATUS = 'T' AND", "expected word"),
        ("(STATUS = 'T'", "expected )"),
        ("NOPE = 'x'", "Invalid field 'NOPE'"),
        ("CONTACT.LASTNAME = 'Smith'", "cannot filter on the related field CONTACT.LASTNAME"),
        ("STATUS = 'T' STATUS", "unexpected 'STATUS'"),
        ("WHENMODIFIED > 'yesterday'", "MM/DD/YYYY HH:MM:SS"),
        ("STATUS = 'T' ; DROP", "Invalid query near"),
    ],
)
def test_bad_query_strings_are_refused(text: str, message: str) -> None:
    # Given a malformed query string
    # When it is parsed
    with pytest.raises(IntacctError) as error:
        parse_read_by_query(OBJECTS["EMPLOYEE"], text)

    # Then the reason is in the error
    assert message in error.value.errors[0].description2


def test_tokenizer_reads_escapes_and_doubled_quotes() -> None:
    # Given strings with both escape styles
    # When tokenized
    tokens = tokenize("NAME = 'a\\'b' OR NAME = 'c''d'")

    # Then the quotes are unescaped
    assert [token.text for token in tokens if token.kind == "string"] == ["a'b", "c'd"]
