"""What a company offers for an Intacct object, as its `lookup` says, kept a day so scheduled runs need not ask.

Companies differ (modules, editions, custom fields, the Web Services user's permissions), so the product asks
before it selects: a field is used only where `lookup` lists it, or lists the relationship it hangs from and
the related object's own `lookup` lists the rest (reference §3.1: `OBJECTPATH.FIELD`, one hop).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from ..state import CachedDefinition, StateError
from .errors import IntacctBusinessError
from .protocol import as_list, child, text

logger = logging.getLogger(__name__)

# How long a definition is trusted: fields change when an admin adds a custom field or a module, rarely more
# than daily; an "Invalid fields list" refusal asks again at once (`FieldCatalog.refresh`).
DEFINITION_MAX_AGE = timedelta(days=1)
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


class Lookup(Protocol):
    """The one call the catalog needs from the client (`IntacctClient.lookup`)."""

    def lookup(self, object_name: str) -> ObjectDefinition: ...


class DefinitionCache(Protocol):
    """Where definitions outlive the process: the state store (SQLite for the CLI, DynamoDB in AWS)."""

    def get_definition(self, key: str) -> CachedDefinition | None: ...
    def put_definition(self, definition: CachedDefinition) -> None: ...


class FieldCatalog:
    """The company's object definitions: from memory, else the state store while fresh, else one `lookup`.

    `scope` names who asks (company, entity, user): permissions, and so fields, differ between users.
    """

    def __init__(
        self,
        intacct: Lookup,
        cache: DefinitionCache | None,
        *,
        scope: str,
        max_age: timedelta = DEFINITION_MAX_AGE,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._intacct = intacct
        self._cache = cache
        self._scope = scope
        self.max_age = max_age
        self._clock = clock
        self._known: dict[str, tuple[ObjectDefinition, datetime]] = {}
        # Related objects of a refreshed one: their cached answers are not trusted until asked again either.
        self._stale: set[str] = set()
        # Related objects whose lookup Intacct refused, and when.
        self._refused: dict[str, datetime] = {}
        self.lookups = 0  # `lookup` calls made: a scheduled run with fresh definitions makes none

    def definition(self, object_name: str) -> ObjectDefinition:
        name = object_name.upper()
        if name in self._stale:
            return self.refresh(name)
        now = self._clock()
        known = self._known.get(name)
        if known is not None and now - known[1] < self.max_age:
            return known[0]
        cached = self._cache.get_definition(self._key(name)) if self._cache is not None else None
        if cached is not None and now - cached.fetched_at < self.max_age:
            definition = ObjectDefinition.from_json(cached.body)
            if definition is not None and definition.object_name == name:
                self._known[name] = (definition, cached.fetched_at)
                return definition
        return self.refresh(name)

    def refresh(self, object_name: str, *, related: bool = False) -> ObjectDefinition:
        """Ask Intacct now (the cached answer is too old, or Intacct refused a field list: then `related`).

        With `related`, the objects it relates to are asked again too, when next needed: a refused
        `SHIPTO.X` may be the related object's change."""
        name = object_name.upper()
        self.lookups += 1
        definition = self._intacct.lookup(name)
        now = self._clock()
        self._known[name] = (definition, now)
        self._stale.discard(name)
        self._refused.pop(name, None)
        if related:
            others = {r.object_name for r in definition.relationships if r.object_name != name}
            self._stale.update(others)
            for other in others:
                self._refused.pop(other, None)
        if self._cache is not None:
            try:
                self._cache.put_definition(CachedDefinition(self._key(name), definition.to_json(), now))
            except StateError as exc:
                # The definition was read; only the next run's saving is lost (it asks Intacct again).
                logger.warning("object definition not kept", extra={"object": name, "error": str(exc)})
        logger.info("Intacct object definition read", extra={"object": name, "fields": len(definition.fields)})
        return definition

    def offers(self, object_name: str, field: str) -> bool:
        """Whether `field` can be selected from the object: listed itself, or through a listed relationship."""
        definition = self.definition(object_name)
        name = field.upper()
        if name in definition.fields:
            return True
        parts = name.split(".")
        # The longest relationship path first (MAILADDRESS.CITY of CONTACT, not of a relationship "CONTACT.M…").
        for cut in range(len(parts) - 1, 0, -1):
            relationship = definition.relationship(".".join(parts[:cut]))
            if relationship is None:
                continue
            related = self._related(relationship.object_name)
            return related is not None and ".".join(parts[cut:]) in related.fields
        return False

    def _related(self, object_name: str) -> ObjectDefinition | None:
        """A related object's definition, or None when Intacct refuses to look it up (permission, module): then its
        fields are not to be had, and it is not asked again while a definition would be trusted. An Intacct that
        does not answer is not a refusal: that error goes to the caller, whose read then fails and is retried."""
        name = object_name.upper()
        refused_at = self._refused.get(name)
        if refused_at is not None and self._clock() - refused_at < self.max_age:
            return None
        try:
            return self.definition(name)
        except IntacctBusinessError as exc:
            self._refused[name] = self._clock()
            logger.info("related object not readable", extra={"object": name, "error": str(exc)})
            return None

    def _key(self, object_name: str) -> str:
        return f"{object_name}|{self._scope}"
