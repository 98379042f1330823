"""`lookup` read from the documented answer shape (no sockets)."""

from __future__ import annotations

import pytest
from intacct_assignar.intacct import Relationship
from intacct_assignar.intacct.definitions import DefinitionUnreadableError, parse_lookup
from intacct_assignar.intacct.xmlcodec import parse_xml

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
