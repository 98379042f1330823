"""`query` through the gateway in-process: filters by datatype, operators, ordering, paging, aggregates, refusals."""

from __future__ import annotations

from typing import Any

import pytest
from intacct_assignar_dev.emulators.intacct import EmulatorStats, IntacctStore
from intacct_assignar_dev.emulators.intacct.gateway import Gateway

from .envelope import CREDENTIALS, data_attributes, errors, fn, query, records, request, result
from .fixtures import FakeClock

PROJECTS = [
    # PROJECTID, NAME, BUDGETAMOUNT, BEGINDATE, DESCRIPTION, STATUS
    ("24-0001", "Lowry Fire Station", "900", "01/15/2024", "Fire station", "active"),
    ("24-0002", "lowry library", "1000", "03/01/2024", None, "active"),
    ("24-0003", "Belmar Hotel", "25000.5", "03/01/2024", "Hotel", "inactive"),
    ("23-0004", "Cherry Creek Medical", "150", None, "Clinic", "active"),
    ("22-0005", "Union Station Garage", None, "11/30/2022", "Parking", "active"),
]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def gateway(clock: FakeClock) -> Gateway:
    store = IntacctStore(clock=clock)
    for project_id, name, budget, begin, description, status in PROJECTS:
        store.create(
            "PROJECT",
            {
                "PROJECTID": project_id,
                "NAME": name,
                "BUDGETAMOUNT": budget,
                "BEGINDATE": begin,
                "DESCRIPTION": description,
                "STATUS": status,
            },
        )
        clock.advance(minutes=1)
    return Gateway(
        store,
        CREDENTIALS,
        session_duration_s=3600,
        endpoint_url=lambda: "http://emulator/ia/xml/xmlgw.phtml",
        stats=EmulatorStats(),
    )


def _query(gateway: Gateway, inner: str) -> dict[str, Any]:
    reply = gateway.handle(request(fn("query", inner)))
    assert reply.status == 200
    return result(reply.body)


def _ids(found: dict[str, Any]) -> list[str]:
    return [row["PROJECTID"] for row in records(found, "PROJECT")]


def _filtered(gateway: Gateway, filter_xml: str, **options: str) -> list[str]:
    extra = "".join(f"<options><{name}>{value}</{name}></options>" for name, value in options.items())
    order = "<order><field>PROJECTID</field><ascending/></order>"
    return sorted(
        _ids(_query(gateway, query("PROJECT", ["PROJECTID"], filter_xml=filter_xml, orderby=order, extra=extra)))
    )


@pytest.mark.parametrize(
    ("filter_xml", "expected"),
    [
        ("<equalto><field>STATUS</field><value>active</value></equalto>", ["22-0005", "23-0004", "24-0001", "24-0002"]),
        ("<notequalto><field>DESCRIPTION</field><value>Hotel</value></notequalto>", ["22-0005", "23-0004", "24-0001"]),
        ("<greaterthan><field>BUDGETAMOUNT</field><value>950</value></greaterthan>", ["24-0002", "24-0003"]),
        ("<lessthan><field>BUDGETAMOUNT</field><value>950</value></lessthan>", ["23-0004", "24-0001"]),
        (
            "<lessthanorequalto><field>BUDGETAMOUNT</field><value>900</value></lessthanorequalto>",
            ["23-0004", "24-0001"],
        ),
        (
            "<greaterthanorequalto><field>BEGINDATE</field><value>03/01/2024</value></greaterthanorequalto>",
            ["24-0002", "24-0003"],
        ),
        (
            "<between><field>BEGINDATE</field><value>01/01/2024</value><value>02/29/2024</value></between>",
            ["24-0001"],
        ),
        ("<in><field>PROJECTID</field><value>24-0001</value><value>22-0005</value></in>", ["22-0005", "24-0001"]),
        (
            "<notin><field>PROJECTID</field><value>24-0001</value><value>22-0005</value></notin>",
            ["23-0004", "24-0002", "24-0003"],
        ),
        ("<like><field>NAME</field><value>L%</value></like>", ["24-0001"]),
        (
            "<like><field>PROJECTID</field><value>2_-000_</value></like>",
            ["22-0005", "23-0004", "24-0001", "24-0002", "24-0003"],
        ),
        ("<notlike><field>NAME</field><value>%Hotel%</value></notlike>", ["22-0005", "23-0004", "24-0001", "24-0002"]),
        ("<isnull><field>DESCRIPTION</field></isnull>", ["24-0002"]),
        ("<isnotnull><field>BEGINDATE</field></isnotnull>", ["22-0005", "24-0001", "24-0002", "24-0003"]),
        (
            "<or><equalto><field>PROJECTID</field><value>22-0005</value></equalto>"
            "<and><equalto><field>STATUS</field><value>active</value></equalto>"
            "<lessthan><field>BUDGETAMOUNT</field><value>200</value></lessthan></and></or>",
            ["22-0005", "23-0004"],
        ),
    ],
)
def test_each_filter_operator(gateway: Gateway, filter_xml: str, expected: list[str]) -> None:
    # Given five projects with typed values and some nulls
    # When they are filtered
    found = _filtered(gateway, filter_xml)

    # Then the match follows the field's datatype and SQL null rules
    assert found == expected


def test_timestamps_compare_as_timestamps(gateway: Gateway) -> None:
    # Given projects created a minute apart from 09:30:00
    # When filtering WHENMODIFIED after 09:31:30 in Intacct's format
    found = _filtered(
        gateway, "<greaterthan><field>WHENMODIFIED</field><value>06/05/2024 09:31:30</value></greaterthan>"
    )

    # Then only the three later ones match
    assert found == ["22-0005", "23-0004", "24-0003"]


def test_caseinsensitive_option(gateway: Gateway) -> None:
    # Given names that differ in case
    filter_xml = "<like><field>NAME</field><value>lowry%</value></like>"

    # When queried case-sensitively (the default) and case-insensitively
    sensitive = _filtered(gateway, filter_xml)
    insensitive = _filtered(gateway, filter_xml, caseinsensitive="true")

    # Then only the insensitive query matches both
    assert sensitive == ["24-0002"]
    assert insensitive == ["24-0001", "24-0002"]


def test_orderby_several_fields_with_nulls_like_oracle(gateway: Gateway) -> None:
    # Given one project without BEGINDATE
    orderby = "<order><field>BEGINDATE</field><descending/></order><order><field>PROJECTID</field><ascending/></order>"

    # When ordered by BEGINDATE descending then PROJECTID
    found = _ids(_query(gateway, query("PROJECT", ["PROJECTID", "BEGINDATE"], orderby=orderby)))

    # Then nulls come first descending and ties break on the second field
    assert found == ["23-0004", "24-0002", "24-0003", "24-0001", "22-0005"]


def test_paging_attributes(gateway: Gateway) -> None:
    # Given five projects
    inner = query("PROJECT", ["PROJECTID"], extra="<pagesize>2</pagesize><offset>2</offset>")

    # When the second page of two is asked for
    found = _query(gateway, inner)

    # Then Intacct's paging attributes describe it
    assert data_attributes(found) == {
        "listtype": "PROJECT",
        "totalcount": "5",
        "offset": "2",
        "count": "2",
        "numremaining": "1",
    }


def test_values_are_written_the_intacct_way(gateway: Gateway) -> None:
    # Given a project with a decimal, a date, a timestamp and a null
    fields = ["PROJECTID", "BUDGETAMOUNT", "BEGINDATE", "WHENCREATED", "DESCRIPTION", "STATUS"]

    # When it is queried
    found = _query(
        gateway,
        query("PROJECT", fields, filter_xml="<equalto><field>PROJECTID</field><value>24-0002</value></equalto>"),
    )

    # Then numbers are plain, dates MM/DD/YYYY, timestamps with seconds, null an empty element
    assert records(found, "PROJECT") == [
        {
            "PROJECTID": "24-0002",
            "BUDGETAMOUNT": "1000",
            "BEGINDATE": "03/01/2024",
            "WHENCREATED": "06/05/2024 09:31:00",
            "DESCRIPTION": None,
            "STATUS": "active",
        }
    ]


def test_count_aggregate(gateway: Gateway) -> None:
    # Given five projects, four active
    inner = "<object>PROJECT</object><select><field>STATUS</field><count>RECORDNO</count></select>"

    # When counted by STATUS
    found = _query(gateway, inner + "<orderby><order><field>STATUS</field><ascending/></order></orderby>")

    # Then one row per group carries COUNT.RECORDNO
    assert records(found, "PROJECT") == [
        {"STATUS": "active", "COUNT.RECORDNO": "4"},
        {"STATUS": "inactive", "COUNT.RECORDNO": "1"},
    ]


@pytest.mark.parametrize(
    ("inner", "message"),
    [
        ("<object>PROJECT</object>", "select is required"),
        ("<object>PROJECT2</object><select><field>RECORDNO</field></select>", "Object definition PROJECT2 not found"),
        (
            query("PROJECT", ["RECORDNO"], filter_xml="<equalto><field>NOPE</field><value>x</value></equalto>"),
            "Invalid field 'NOPE'",
        ),
        (query("PROJECT", ["RECORDNO"], orderby="<order><field>NOPE</field><ascending/></order>"), "Invalid field"),
        (
            query("PROJECT", ["RECORDNO"], extra="<pagesize>2001</pagesize>"),
            "pagesize must be a whole number from 1 to 2000",
        ),
        (query("PROJECT", ["RECORDNO"], extra="<pagesize>0</pagesize>"), "pagesize"),
        (
            query(
                "PROJECT",
                ["RECORDNO"],
                filter_xml="<and><equalto><field>STATUS</field><value>active</value></equalto></and>",
            ),
            "at least two",
        ),
        (
            query(
                "PROJECT",
                ["RECORDNO"],
                filter_xml="<greaterthan><field>WHENMODIFIED</field><value>2024-06-01</value></greaterthan>",
            ),
            "MM/DD/YYYY HH:MM:SS",
        ),
        (
            query("PROJECT", ["RECORDNO"], filter_xml="<between><field>BUDGETAMOUNT</field><value>1</value></between>"),
            "takes 2-2 values",
        ),
    ],
)
def test_bad_queries_fail_with_query_failed(gateway: Gateway, inner: str, message: str) -> None:
    # Given a query Intacct would refuse
    # When it runs
    found = _query(gateway, inner)

    # Then the function fails with the reason
    assert found["status"] == "failure"
    (error,) = errors(found)
    assert error["errorno"] == "Query Failed"
    assert message in error["description2"]


def test_query_over_five_thousand_employees_filters_and_orders_exactly() -> None:
    # Given a generated company of 5,000 employees

    from intacct_assignar_dev.emulators.intacct import generate_company
    from intacct_assignar_dev.emulators.intacct.functions import Call, Cursors
    from intacct_assignar_dev.emulators.intacct.functions import query as run_query

    store = IntacctStore(clock=FakeClock())
    generate_company(store, employees=5000, seed=3)
    body = {
        "object": "EMPLOYEE",
        "select": {"field": ["RECORDNO", "EMPLOYEEID", "CONTACT.LASTNAME", "WHENMODIFIED"]},
        "filter": {
            "and": [
                {
                    "equalto": [{"field": "STATUS", "value": ["active"]}],
                    "in": [{"field": "DEPARTMENTID", "value": ["FIELD", "SHOP"]}],
                }
            ]
        },
        "orderby": {"order": [{"field": "WHENMODIFIED", "descending": None}, {"field": "RECORDNO", "ascending": None}]},
        "pagesize": "2000",
    }

    # When filtered and ordered
    outcome = run_query(Call(store, Cursors(), "u", "o"), body)

    # Then it answers with exactly the matching employees, newest first then by RECORDNO
    # (its speed is measured in benchmarks/, never asserted in a test)
    assert outcome.errors == ()
    expected = sorted(
        (r for r in store.records("EMPLOYEE") if r["STATUS"] == "active" and r["DEPARTMENTID"] in ("FIELD", "SHOP")),
        key=lambda r: (-r["WHENMODIFIED"].timestamp(), r["RECORDNO"]),
    )
    data = outcome.payload["data"]
    assert data["@totalcount"] == str(len(expected))
    got = [int(r["RECORDNO"]) for r in data["EMPLOYEE"]]
    assert got == [r["RECORDNO"] for r in expected][:2000]
