"""Choosing what to select from what a company offers: required fields fail the workflow, optional ones are listed."""

from __future__ import annotations

import pytest
from intacct_assignar.catalog import FieldCatalog
from intacct_assignar.config import parse_config
from intacct_assignar.intacct import ObjectDefinition
from intacct_assignar.sources import EMPLOYEES, PROJECTS, SOURCES, FieldsUnavailableError, select

CONFIG = parse_config({"timezone": "America/Denver"})


class Offers:
    """A catalog stand-in answering from a fixed definition per object."""

    def __init__(self, **fields: set[str]) -> None:
        self.definitions = {name: ObjectDefinition(name, frozenset(names)) for name, names in fields.items()}

    def lookup(self, object_name: str) -> ObjectDefinition:
        return self.definitions[object_name]


def catalog(**fields: set[str]) -> FieldCatalog:
    return FieldCatalog(Offers(**fields), None, scope="test")


def test_every_source_names_its_keys_as_required() -> None:
    # The pull pages on RECORDNO and WHENMODIFIED and deactivates by STATUS: no workflow runs without them
    for source in SOURCES:
        required = {need.name for need in source.needs if need.required}
        assert {"RECORDNO", "STATUS", "WHENMODIFIED"} <= required, source.object_name


def test_a_company_without_the_optional_fields_selects_the_rest_and_lists_what_is_missing() -> None:
    # Given an EMPLOYEE with no mobile, address or birth date
    offered = {"RECORDNO", "EMPLOYEEID", "STATUS", "WHENMODIFIED", "CONTACT.FIRSTNAME", "CONTACT.LASTNAME"}
    offered |= {"CONTACT.EMAIL1", "CONTACT.PHONE1", "EMPPOSITIONID", "DEPARTMENTID"}

    # When the workers' fields are chosen
    selection = select(EMPLOYEES, catalog(EMPLOYEE=offered), CONFIG)

    # Then exactly the offered ones are asked for, and the missing ones are named with what they are for
    assert set(selection.fields) == offered
    missing = selection.describe_missing()
    assert "EMPLOYEE.CONTACT.CELLPHONE (the worker's mobile)" in missing
    assert "EMPLOYEE.CONTACT.MAILADDRESS.ADDRESS1, ADDRESS2, CITY, STATE, ZIP (the worker's address)" in missing
    assert "EMPLOYEE.BIRTHDATE (the worker's birth date)" in missing


def test_a_missing_required_field_fails_the_workflow_naming_object_field_and_fix() -> None:
    # Given a PROJECT whose NAME the Web Services user cannot see
    offered = {"RECORDNO", "PROJECTID", "STATUS", "WHENMODIFIED", "CUSTOMERID"}

    # When the projects' fields are chosen, it says which field, what for, and what to do
    with pytest.raises(FieldsUnavailableError) as refused:
        select(PROJECTS, catalog(PROJECT=offered), CONFIG)
    message = str(refused.value)
    assert "PROJECT.NAME (the record's name)" in message
    assert "give the Web Services user permission" in message


def test_a_filter_setting_makes_its_field_required() -> None:
    # Given an EMPLOYEE without DEPARTMENTID
    offered = {"RECORDNO", "EMPLOYEEID", "STATUS", "WHENMODIFIED", "CONTACT.FIRSTNAME", "CONTACT.LASTNAME"}

    # Then without a department filter the workers sync without it
    assert "DEPARTMENTID" not in select(EMPLOYEES, catalog(EMPLOYEE=offered), CONFIG).fields

    # And with one, the workflow cannot filter, so it fails and names the setting as the other way out
    filtered = parse_config({"timezone": "America/Denver", "workflows": {"workers": {"departments": ["FIELD"]}}})
    with pytest.raises(FieldsUnavailableError, match=r"EMPLOYEE\.DEPARTMENTID .*workflows\.workers\.departments"):
        select(EMPLOYEES, catalog(EMPLOYEE=offered), filtered)
