"""Company profiles: which of the table's fields an emulated company offers, its custom fields, and the objects
its Web Services user may not read. Companies differ, so a client must discover fields rather than assume them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field

from .schema import OBJECTS, DataType, FieldDef, ObjectDef


@dataclass(frozen=True)
class CompanyProfile:
    """One company as the Web Services user sees it.

    `hidden`: fields of the table this company does not have (its modules or configuration lack them), by object;
    `custom`: fields its admin added, by object (lookup marks them ISCUSTOM); `unreadable`: objects the user has
    no permission to list. Mistakes in a profile are refused at once, so a test cannot pass by a typo.

    `po_texts`: where `create_potransaction` stores its free texts, `<referenceno>` and `<message>` on PODOCUMENT
    and a line's `<memo>` on PODOCUMENTENTRY (those not named keep the default). Intacct documents none of these
    mappings (reference §5.3 [gap]); the default (PONUMBER, MESSAGE, MEMO) is the guess a sandbox round trip
    would confirm. None stores the element nowhere a query can read, as a gateway keeping it under another name
    looks to a client, while the field itself may still be listed by `lookup`.
    """

    name: str
    hidden: Mapping[str, frozenset[str]] = field(default_factory=dict)
    custom: Mapping[str, tuple[FieldDef, ...]] = field(default_factory=dict)
    unreadable: frozenset[str] = frozenset()
    po_texts: Mapping[str, str | None] = field(default_factory=lambda: dict(PO_TEXTS))

    def __post_init__(self) -> None:
        for element, stored_as in self.po_texts.items():
            obj = "PODOCUMENTENTRY" if element == "memo" else "PODOCUMENT"
            if element not in PO_TEXTS:
                raise ValueError(f"profile {self.name}: po_texts takes {', '.join(PO_TEXTS)}, not {element}")
            if stored_as is not None and stored_as not in OBJECTS[obj].fields:
                raise ValueError(f"profile {self.name}: {obj} has no field {stored_as} to store <{element}> in")
        for obj, names in self.hidden.items():
            spec = _standard(obj, "hidden")
            free = _WHOLE_BUT.get(obj, frozenset())
            if obj in _WHOLE and not names <= free:
                which = f"hide only {', '.join(sorted(free))}" if free else "hide none"
                raise ValueError(f"profile {self.name}: {obj}'s fields all carry the emulator's rules; {which}")
            protected = {*_ALWAYS, spec.id_field, *spec.id_scope, *spec.required}
            for name in names:
                if name not in spec.fields:
                    raise ValueError(f"profile {self.name}: {obj} has no field {name} to hide")
                if name in protected:
                    raise ValueError(f"profile {self.name}: {obj}.{name} is a key or a field the emulator's rules read")
        for obj, fields in self.custom.items():
            spec = _standard(obj, "custom")
            for custom in fields:
                if custom.name in spec.fields:
                    raise ValueError(
                        f"profile {self.name}: custom field {obj}.{custom.name} clashes with a standard one"
                    )
        for obj in self.unreadable:
            _standard(obj, "unreadable")

    def po_field(self, element: str) -> str | None:
        """Where this company keeps create_potransaction's free text `element` (`po_texts`, else the default)."""
        return self.po_texts.get(element, PO_TEXTS[element])

    def objects(self) -> dict[str, ObjectDef]:
        """Every object as this company defines it: hidden fields (and references through them) gone, custom
        fields added with ISCUSTOM. Build it once per store; requests must not pay for it."""
        company: dict[str, ObjectDef] = {}
        for name, spec in OBJECTS.items():
            hidden = self.hidden.get(name, frozenset())
            custom = self.custom.get(name, ())
            if not hidden and not custom:
                company[name] = spec
                continue
            fields = {field_name: f for field_name, f in spec.fields.items() if field_name not in hidden}
            fields.update({f.name: dataclasses.replace(f, custom=True) for f in custom})
            references = tuple(reference for reference in spec.references if reference.field not in hidden)
            company[name] = dataclasses.replace(spec, fields=fields, references=references)
        return company


# create_potransaction's free texts and the fields the emulator stores them in by default ([inf]: see po_texts).
PO_TEXTS: Mapping[str, str | None] = {"referenceno": "PONUMBER", "message": "MESSAGE", "memo": "MEMO"}

# Fields the store's rules read on every object, and objects whose rules read nearly all their fields
# (timesheets, purchasing documents and their lines, the audit trail): a profile cannot take these away.
_ALWAYS = frozenset({"RECORDNO", "STATUS", "WHENCREATED", "WHENMODIFIED"})
_WHOLE = frozenset({"TIMESHEET", "TIMESHEETENTRY", "PODOCUMENT", "PODOCUMENTENTRY", "AUDITHISTORY"})
# Except their free texts, which a company may not offer for reading: the push must then say it cannot look.
_WHOLE_BUT = {
    "PODOCUMENT": frozenset({"PONUMBER", "VENDORDOCNO", "MESSAGE"}),
    "PODOCUMENTENTRY": frozenset({"ITEMDESC", "MEMO"}),
}


def _standard(obj: str, what: str) -> ObjectDef:
    spec = OBJECTS.get(obj)
    if spec is None:
        raise ValueError(f"{what}: unknown object {obj}; use one of {', '.join(OBJECTS)}")
    return spec


def _named(obj: str, *prefixes: str) -> frozenset[str]:
    """The table's fields of `obj` that start with one of `prefixes` (so the lists follow the table)."""
    return frozenset(name for name in OBJECTS[obj].fields if name.startswith(prefixes))


# Every field of the table: the default everywhere.
STANDARD = CompanyProfile("standard")

# A company without the optional fields: no personal addresses, cell phones or birth dates, no project contacts,
# no extended item descriptions, no planned task dates. A client must run (and say what it lacks) without them.
LEAN = CompanyProfile(
    "lean",
    hidden={
        "EMPLOYEE": frozenset({"CONTACT.CELLPHONE", "BIRTHDATE"}) | _named("EMPLOYEE", "CONTACT.MAILADDRESS."),
        "PROJECT": frozenset({"SHIPTO.CONTACTNAME", "BILLTO.CONTACTNAME", "CONTACTINFO.CONTACTNAME"}),
        "CUSTOMER": frozenset({"DISPLAYCONTACT.CELLPHONE"}) | _named("CUSTOMER", "DISPLAYCONTACT.MAILADDRESS."),
        "ITEM": frozenset({"EXTENDED_DESCRIPTION"}),
        "TASK": frozenset({"PBEGINDATE", "PENDDATE"}),
    },
)

# Everything, plus custom fields a construction company's admin typically adds.
RICH = CompanyProfile(
    "rich",
    custom={
        "PROJECT": (
            FieldDef("JOBSITE_SUPERINTENDENT", DataType.TEXT, custom=True),
            FieldDef("PERMIT_NUMBER", DataType.TEXT, custom=True),
        ),
        "EMPLOYEE": (
            FieldDef("UNION_LOCAL", DataType.TEXT, custom=True),
            FieldDef("SAFETY_CERT_EXPIRES", DataType.DATE, custom=True),
        ),
        "ITEM": (FieldDef("EQUIPMENT_CLASS", DataType.TEXT, custom=True),),
    },
)
