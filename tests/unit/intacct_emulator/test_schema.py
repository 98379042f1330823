"""The field table: every field carries its evidence, and PROJECT offers only what Intacct's reference documents."""

from __future__ import annotations

from intacct_assignar_dev.emulators.intacct import OBJECTS
from intacct_assignar_dev.emulators.intacct.schema import FIELD_TABLE, object_def


def test_every_field_of_every_object_comes_from_the_table_with_its_evidence() -> None:
    # Given the standard company's objects and the table
    # When each object's fields are compared with the table's rows
    # Then they are the same fields, each row saying doc or inf and where from
    assert set(FIELD_TABLE) == set(OBJECTS)
    for name, spec in OBJECTS.items():
        rows = FIELD_TABLE[name]
        assert [row.field.name for row in rows] == list(spec.fields), name
        assert len({row.field.name for row in rows}) == len(rows), f"{name} lists a field twice"
        for row in rows:
            assert row.evidence.kind in ("doc", "inf"), (name, row.field.name)
            assert row.evidence.note.strip(), (name, row.field.name)
            assert not row.field.custom


def test_inferences_say_what_would_confirm_them() -> None:
    # Given every inferred field
    inferred = [(name, row) for name, rows in FIELD_TABLE.items() for row in rows if row.evidence.kind == "inf"]

    # When their notes are read
    # Then each names a way to confirm it (a lookup, or the reference section that records the open question)
    assert inferred
    for name, row in inferred:
        note = row.evidence.note
        assert "Confirm" in note or "reference §" in note, (name, row.field.name, note)


def test_project_has_contacts_by_name_and_no_address() -> None:
    # Given PROJECT as the standard company defines it
    project = OBJECTS["PROJECT"]

    # When its contact fields and references are read
    dotted = {name for name in project.fields if "." in name}
    targets = {reference.field: (reference.target, reference.object_path) for reference in project.references}

    # Then its only dotted fields are the reference's three contact names (no address), each naming a CONTACT
    assert dotted == {"CONTACTINFO.CONTACTNAME", "BILLTO.CONTACTNAME", "SHIPTO.CONTACTNAME"}
    assert targets["SHIPTO.CONTACTNAME"] == ("CONTACT", "SHIPTO")
    assert targets["BILLTO.CONTACTNAME"] == ("CONTACT", "BILLTO")
    assert targets["CONTACTINFO.CONTACTNAME"] == ("CONTACT", "CONTACTINFO")
    assert targets["CUSTOMERID"] == ("CUSTOMER", "CUSTOMER")


def test_contact_is_named_by_contactname_and_holds_the_mailing_address() -> None:
    # Given the CONTACT object (case-insensitive, as clients spell it)
    contact = object_def("contact")

    # When its definition is read
    # Then it is keyed by CONTACTNAME, needs PRINTAS, and carries the fields the contacts reference documents
    assert contact is not None
    assert contact.id_field == "CONTACTNAME"
    assert contact.required == ("CONTACTNAME", "PRINTAS")
    assert set(contact.fields) == {
        "RECORDNO",
        "CONTACTNAME",
        "PRINTAS",
        "COMPANYNAME",
        "FIRSTNAME",
        "LASTNAME",
        "EMAIL1",
        "EMAIL2",
        "PHONE1",
        "CELLPHONE",
        "MAILADDRESS.ADDRESS1",
        "MAILADDRESS.ADDRESS2",
        "MAILADDRESS.CITY",
        "MAILADDRESS.STATE",
        "MAILADDRESS.ZIP",
        "MAILADDRESS.COUNTRY",
        "STATUS",
        "WHENCREATED",
        "WHENMODIFIED",
    }
    evidence = {row.field.name: row.evidence.kind for row in FIELD_TABLE["CONTACT"]}
    assert evidence["CONTACTNAME"] == evidence["EMAIL2"] == "doc"
    assert evidence["MAILADDRESS.CITY"] == "inf"


def test_customer_and_employee_keep_their_contacts_as_flat_dotted_fields() -> None:
    # Given CUSTOMER and EMPLOYEE
    customer, employee = OBJECTS["CUSTOMER"], OBJECTS["EMPLOYEE"]

    # When their contact fields are listed
    # Then they are flat fields (no CONTACT reference to satisfy), the documented query names marked doc
    assert {"DISPLAYCONTACT.EMAIL1", "DISPLAYCONTACT.MAILADDRESS.CITY"} <= set(customer.fields)
    assert {"CONTACT.FIRSTNAME", "CONTACT.CELLPHONE", "CONTACT.MAILADDRESS.ZIP"} <= set(employee.fields)
    assert not [r for r in (*customer.references, *employee.references) if r.target == "CONTACT"]
    evidence = {row.field.name: row.evidence.kind for row in FIELD_TABLE["EMPLOYEE"]}
    assert evidence["CONTACT.FIRSTNAME"] == evidence["CONTACT.LASTNAME"] == "doc"
    assert evidence["CONTACT.EMAIL1"] == "inf"
