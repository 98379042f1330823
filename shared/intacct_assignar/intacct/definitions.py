"""An Intacct object's definition as `lookup` answers it: its fields, custom fields and relationships.

Reference §3.1: `<Type Name=…><Fields><Field><ID>…<DATATYPE>…<ISCUSTOM>…` then `<Relationships>`; a related
object's field is selected as `OBJECTPATH.FIELD`. What the product does with it is `catalog.FieldCatalog`'s.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .errors import IntacctBusinessError
from .protocol import as_list, child, text

_FORMAT = 1  # of the cached JSON body; a body in another format is asked for again


class DefinitionUnreadableError(IntacctBusinessError):
    """`lookup` answered, but not with an object definition we can read."""


@dataclass(frozen=True)
class Relationship:
    """A related object a field can be selected through: `SHIPTO.CONTACTNAME` has path SHIPTO, object CONTACT."""

    path: str
    object_name: str
    related_by: str | None = None


@dataclass(frozen=True)
class ObjectDefinition:
    """The fields and relationships one object has in this company, for this Web Services user."""

    object_name: str
    fields: frozenset[str]
    custom_fields: frozenset[str] = frozenset()
    relationships: tuple[Relationship, ...] = ()

    def relationship(self, path: str) -> Relationship | None:
        wanted = path.upper()
        return next((r for r in self.relationships if r.path.upper() == wanted), None)

    def to_json(self) -> str:
        return json.dumps(
            {
                "format": _FORMAT,
                "object": self.object_name,
                "fields": sorted(self.fields),
                "custom": sorted(self.custom_fields),
                "relationships": [[r.path, r.object_name, r.related_by] for r in self.relationships],
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, body: str) -> ObjectDefinition | None:
        """The cached definition, or None for a body this version did not write (it is then asked for again)."""
        try:
            data = json.loads(body)
            if data.get("format") != _FORMAT:
                return None
            return cls(
                object_name=str(data["object"]),
                fields=frozenset(str(name) for name in data["fields"]),
                custom_fields=frozenset(str(name) for name in data["custom"]),
                relationships=tuple(
                    Relationship(str(path), str(name), None if by is None else str(by))
                    for path, name, by in data["relationships"]
                ),
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            return None


def parse_lookup(object_name: str, data: Any) -> ObjectDefinition:
    """The definition in a `lookup` result's `<data>`: `<Type Name=…><Fields><Field><ID>…` then `<Relationships>`.

    Read case-insensitively, tolerating one field parsed as a dict and empty elements; a `<Type>` for another
    object, or none at all, is refused rather than taken for this one.
    """
    wanted = object_name.upper()
    types = [node for node in as_list(child(data, "Type")) if isinstance(node, Mapping)]
    named = [node for node in types if str(node.get("@Name") or node.get("@name") or "").upper() == wanted]
    if not named:
        found = ", ".join(str(node.get("@Name") or "?") for node in types) or "none"
        raise DefinitionUnreadableError(f"lookup {wanted} answered no definition of it (types: {found})")
    definition = named[0]
    fields: set[str] = set()
    custom: set[str] = set()
    for field in as_list(child(child(definition, "Fields"), "Field")):
        name = text(field, "ID")
        if not name:
            continue
        fields.add(name.upper())
        if (text(field, "ISCUSTOM") or "").lower() == "true":
            custom.add(name.upper())
    relationships = []
    for relationship in as_list(child(child(definition, "Relationships"), "Relationship")):
        path, related = text(relationship, "OBJECTPATH"), text(relationship, "OBJECTNAME")
        if path and related:
            relationships.append(Relationship(path.upper(), related.upper(), text(relationship, "RELATEDBY")))
    if not fields:
        raise DefinitionUnreadableError(f"lookup {wanted} answered a definition without fields")
    return ObjectDefinition(wanted, frozenset(fields), frozenset(custom), tuple(relationships))
