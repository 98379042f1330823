"""`lookup` read from the documented answer shape, and the catalog that keeps definitions a day (no sockets)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from intacct_assignar.intacct import FieldCatalog, IntacctBusinessError, ObjectDefinition, Relationship
from intacct_assignar.intacct.definitions import DefinitionUnreadableError, parse_lookup
from intacct_assignar.intacct.xmlcodec import parse_xml
from intacct_assignar.state import CachedDefinition

from . import gateway as g
from .gateway import FakeGateway, Sent
from .test_client import make_client


def field_xml(name: str, datatype: str = "TEXT", custom: bool = False) -> str:
    return (
        f"<Field><ID>{name}</ID><LABEL>{name.title()}</LABEL><DESCRIPTION/><REQUIRED>false</REQUIRED>"
        f"<READONLY>false</READONLY><DATATYPE>{datatype}</DATATYPE><ISCUSTOM>{str(custom).lower()}</ISCUSTOM></Field>"
    )


def lookup_data(name: str, fields: str, relationships: str = "") -> str:
    # The documented shape (reference §3.1, the GLBATCH example): listtype "All", one <Type>.
    return (
        f'<data listtype="All" count="1"><Type Name="{name}" DocumentType=""><Fields>{fields}</Fields>'
        f"<Relationships>{relationships}</Relationships></Type></data>"
    )


def relationship_xml(path: str, target: str, by: str) -> str:
    return (
        f"<Relationship><OBJECTPATH>{path}</OBJECTPATH><OBJECTNAME>{target}</OBJECTNAME><LABEL/>"
        f"<RELATIONSHIPTYPE>MANY2ONE</RELATIONSHIPTYPE><RELATEDBY>{by}</RELATEDBY></Relationship>"
    )


PROJECT_LOOKUP = lookup_data(
    "PROJECT",
    field_xml("RECORDNO", "INTEGER")
    + field_xml("PROJECTID")
    + field_xml("SHIPTO.CONTACTNAME")
    + field_xml("PERMIT_NUMBER", custom=True),
    relationship_xml("CUSTOMER", "CUSTOMER", "CUSTOMERID")
    + relationship_xml("SHIPTO", "CONTACT", "SHIPTO.CONTACTNAME"),
)


def test_the_client_reads_a_lookup_answer_into_fields_custom_fields_and_relationships() -> None:
    # Given a gateway answering lookup in the documented shape
    def answer(sent: Sent) -> str:
        return g.result("lookup", sent.controlids[0], PROJECT_LOOKUP)

    fake = FakeGateway([g.ok(answer)])
    client, _ = make_client(fake)

    # When the client looks PROJECT up
    definition = client.lookup("project")

    # Then the request was a lookup of the object, and the answer reads as its definition
    assert fake.calls()[0].function_names == ["lookup"]
    assert fake.calls()[0].functions[0]["lookup"] == {"object": "project"}
    assert definition.object_name == "PROJECT"
    assert definition.fields == {"RECORDNO", "PROJECTID", "SHIPTO.CONTACTNAME", "PERMIT_NUMBER"}
    assert definition.custom_fields == {"PERMIT_NUMBER"}
    assert definition.relationship("shipto") == Relationship("SHIPTO", "CONTACT", "SHIPTO.CONTACTNAME")
    assert client.counters.by_function["lookup"] == 1


def test_one_field_and_one_relationship_parse_as_dicts_and_still_read() -> None:
    # Given xmltodict's awkward part: a single <Field> and a single <Relationship> come back as dicts
    data = parse_xml(lookup_data("TASK", field_xml("TASKID"), relationship_xml("PROJECT", "PROJECT", "PROJECTID")))

    # When read
    definition = parse_lookup("TASK", data["data"])

    # Then they are a list of one each
    assert definition.fields == {"TASKID"}
    assert [r.object_name for r in definition.relationships] == ["PROJECT"]


@pytest.mark.parametrize(
    "body",
    [
        lookup_data("CUSTOMER", field_xml("CUSTOMERID")),  # an answer about another object
        '<data listtype="All" count="0"/>',  # no definition at all
        lookup_data("PROJECT", ""),  # a definition without fields
    ],
)
def test_an_answer_that_is_not_this_objects_definition_is_refused(body: str) -> None:
    # When an answer that does not define PROJECT is read
    with pytest.raises(DefinitionUnreadableError, match="PROJECT"):
        parse_lookup("PROJECT", parse_xml(body)["data"])


@dataclass
class FakeIntacct:
    """Answers `lookup` from a table; an object not in it is refused, as a company without the module would."""

    definitions: dict[str, ObjectDefinition]
    asked: list[str] = field(default_factory=list)

    def lookup(self, object_name: str) -> ObjectDefinition:
        self.asked.append(object_name)
        if object_name not in self.definitions:
            raise IntacctBusinessError("Intacct refused lookup (failure)")
        return self.definitions[object_name]


@dataclass
class FakeCache:
    stored: dict[str, CachedDefinition] = field(default_factory=dict)

    def get_definition(self, key: str) -> CachedDefinition | None:
        return self.stored.get(key)

    def put_definition(self, definition: CachedDefinition) -> None:
        self.stored[definition.key] = definition


PROJECT = ObjectDefinition(
    "PROJECT",
    frozenset({"RECORDNO", "PROJECTID", "SHIPTO.CONTACTNAME"}),
    relationships=(Relationship("SHIPTO", "CONTACT", "SHIPTO.CONTACTNAME"), Relationship("CUSTOMER", "CUSTOMER")),
)
CONTACT = ObjectDefinition("CONTACT", frozenset({"CONTACTNAME", "MAILADDRESS.CITY"}))


class Clock:
    def __init__(self) -> None:
        self.at = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.at


def catalog(intacct: FakeIntacct, cache: FakeCache, clock: Clock) -> FieldCatalog:
    return FieldCatalog(intacct, cache, scope="ACME||ws_user", clock=clock)


def test_a_definition_is_asked_for_once_then_served_from_the_state_store_for_a_day() -> None:
    # Given a company and an empty state store
    intacct, cache, clock = FakeIntacct({"PROJECT": PROJECT}), FakeCache(), Clock()

    # When one process asks twice, and a later process (a new catalog) asks within the day
    first = catalog(intacct, cache, clock)
    first.definition("PROJECT")
    first.definition("project")
    clock.at += timedelta(hours=23)
    later = catalog(intacct, cache, clock)
    later.definition("PROJECT")

    # Then Intacct was asked once, and the cached answer is kept per company, entity and user
    assert intacct.asked == ["PROJECT"]
    assert later.lookups == 0
    assert list(cache.stored) == ["PROJECT|ACME||ws_user"]

    # And after a day it is asked again
    clock.at += timedelta(hours=2)
    catalog(intacct, cache, clock).definition("PROJECT")
    assert intacct.asked == ["PROJECT", "PROJECT"]


def test_a_cached_body_this_version_cannot_read_is_asked_for_again() -> None:
    # Given a state store holding a body in another format
    intacct, clock = FakeIntacct({"PROJECT": PROJECT}), Clock()
    cache = FakeCache({"PROJECT|ACME||ws_user": CachedDefinition("PROJECT|ACME||ws_user", '{"format": 99}', clock())})

    # When the catalog needs PROJECT
    definition = catalog(intacct, cache, clock).definition("PROJECT")

    # Then it asked Intacct, and stored the answer in its own format
    assert definition == PROJECT
    assert intacct.asked == ["PROJECT"]
    assert ObjectDefinition.from_json(cache.stored["PROJECT|ACME||ws_user"].body) == PROJECT


def test_a_related_field_is_offered_only_through_a_listed_relationship_and_the_related_objects_own_fields() -> None:
    # Given PROJECT relating SHIPTO to CONTACT, and CUSTOMER not readable in this company
    intacct, cache, clock = FakeIntacct({"PROJECT": PROJECT, "CONTACT": CONTACT}), FakeCache(), Clock()
    fields = catalog(intacct, cache, clock)

    # Then fields are offered as lookup lists them, directly or through the relationship, and nothing else
    assert fields.offers("PROJECT", "SHIPTO.CONTACTNAME")  # listed itself
    assert fields.offers("PROJECT", "SHIPTO.MAILADDRESS.CITY")  # SHIPTO -> CONTACT lists MAILADDRESS.CITY
    assert not fields.offers("PROJECT", "SHIPTO.MAILADDRESS.ZIP")  # CONTACT does not list it
    assert not fields.offers("PROJECT", "BILLTO.CONTACTNAME")  # no such relationship
    assert not fields.offers("PROJECT", "CUSTOMER.NAME")  # the related object cannot be looked up
    assert intacct.asked == ["PROJECT", "CONTACT", "CUSTOMER"]


def test_a_refresh_after_a_refused_field_list_asks_again_at_once_and_distrusts_related_objects() -> None:
    # Given both definitions cached a minute ago
    intacct, cache, clock = FakeIntacct({"PROJECT": PROJECT, "CONTACT": CONTACT}), FakeCache(), Clock()
    fields = catalog(intacct, cache, clock)
    fields.offers("PROJECT", "SHIPTO.MAILADDRESS.CITY")
    clock.at += timedelta(minutes=1)

    # When Intacct refused a field list and the catalog refreshes PROJECT with its relationships
    fields.refresh("PROJECT", related=True)
    fields.offers("PROJECT", "SHIPTO.MAILADDRESS.CITY")

    # Then PROJECT was asked again at once, and so was CONTACT when next needed
    assert intacct.asked == ["PROJECT", "CONTACT", "PROJECT", "CONTACT"]
    assert fields.lookups == 4
