"""The company's Intacct fields: each object's definition, asked with `lookup` and kept a day in the state store.

Companies differ (modules, editions, custom fields, the Web Services user's permissions), so the product asks
before it selects: a field is used only where `lookup` lists it, or lists the relationship it hangs from and
the related object's own `lookup` lists the rest (reference §3.1: `OBJECTPATH.FIELD`, one hop).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol

from .intacct.definitions import ObjectDefinition
from .intacct.errors import IntacctBusinessError
from .settings import IntacctSettings
from .state import CachedDefinition, StateError

logger = logging.getLogger(__name__)

# How long a definition is trusted: fields change when an admin adds a custom field or a module, rarely more
# than daily; an "Invalid fields list" refusal asks again at once (`FieldCatalog.refresh`).
DEFINITION_MAX_AGE = timedelta(days=1)
# How long a field proven to hold what a write wrote (`FieldCatalog.prove`) is trusted, and after how long a
# write that succeeds proves it again: a company's purchasing setup changes rarely, and each proof costs a read.
PROOF_MAX_AGE = timedelta(days=30)
PROOF_RENEW_AGE = timedelta(days=1)
_HOLDS = '{"holds": true}'


class Lookup(Protocol):
    """The one call the catalog needs from the client (`IntacctClient.lookup`)."""

    def lookup(self, object_name: str) -> ObjectDefinition: ...


class DefinitionCache(Protocol):
    """Where definitions outlive the process: the state store (SQLite for the CLI, DynamoDB in AWS)."""

    def get_definition(self, key: str) -> CachedDefinition | None: ...
    def put_definition(self, definition: CachedDefinition) -> None: ...


def definition_scope(settings: IntacctSettings) -> str:
    """Who definitions are kept for: another company, entity or user may see other fields."""
    return "|".join((settings.company_id, settings.entity_id or "", settings.user_id))


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
        self._max_age = max_age
        self._clock = clock
        self._known: dict[str, tuple[ObjectDefinition, datetime]] = {}
        # Related objects of a refreshed one: their cached answers are not trusted until asked again either.
        self._stale: set[str] = set()
        # Related objects whose lookup Intacct refused, and when.
        self._unreadable: dict[str, datetime] = {}
        # Fields `lookup` lists but a query was refused for, per (object, field), and when.
        self._refused: dict[tuple[str, str], datetime] = {}
        # What a write read back showed of a field, per (object, field): whether it held what was written, and when.
        self._proofs: dict[tuple[str, str], tuple[bool, datetime]] = {}

    def definition(self, object_name: str) -> ObjectDefinition:
        name = object_name.upper()
        if name in self._stale:
            return self.refresh(name)
        known = self._known.get(name)
        if known is not None and self._recent(known[1]):
            return known[0]
        cached = self._cache.get_definition(self._key(name)) if self._cache is not None else None
        if cached is not None and self._recent(cached.fetched_at):
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
        definition = self._intacct.lookup(name)
        now = self._clock()
        self._known[name] = (definition, now)
        self._stale.discard(name)
        self._unreadable.pop(name, None)
        if related:
            others = {r.object_name for r in definition.relationships if r.object_name != name}
            self._stale.update(others)
            for other in others:
                self._unreadable.pop(other, None)
        if self._cache is not None:
            try:
                self._cache.put_definition(CachedDefinition(self._key(name), definition.to_json(), now))
            except StateError as exc:
                # The definition was read; only the next run's saving is lost (it asks Intacct again).
                logger.warning("object definition not kept", extra={"object": name, "error": str(exc)})
        logger.info("Intacct object definition read", extra={"object": name, "fields": len(definition.fields)})
        return definition

    def refuse(self, object_name: str, field: str) -> None:
        """Intacct refused to select `field` though `lookup` lists it (one reached through a relationship, say):
        take it as not offered while a definition would be trusted, then try it once more."""
        self._refused[(object_name.upper(), field.upper())] = self._clock()

    def offers(self, object_name: str, field: str) -> bool:
        """Whether `field` can be selected from the object: listed itself, or through a listed relationship."""
        definition = self.definition(object_name)
        name = field.upper()
        if self._recent(self._refused.get((definition.object_name, name))):
            return False
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
        if self._recent(self._unreadable.get(name)):
            return None
        try:
            return self.definition(name)
        except IntacctBusinessError as exc:
            self._unreadable[name] = self._clock()
            logger.info("related object not readable", extra={"object": name, "error": str(exc)})
            return None

    def proof(self, object_name: str, field: str) -> tuple[bool, datetime] | None:
        """Whether a write read back showed `field` holding what the write put in it, and when that was seen;
        None when it was never checked (`record_proof`).

        `lookup` lists fields, not where a write's elements end up: where the reference does not say (a
        purchasing transaction's `<referenceno>`, reference §5.3), only a write read back shows it."""
        name = (object_name.upper(), field.upper())
        known = self._proofs.get(name)
        if known is None and self._cache is not None:
            cached = self._cache.get_definition(self._proof_key(*name))
            if cached is not None:
                known = (cached.body == _HOLDS, cached.fetched_at)
                self._proofs[name] = known
        return known

    def holds(self, object_name: str, field: str) -> bool:
        """A write read back showed `field` holding what it wrote, within `PROOF_MAX_AGE`."""
        known = self.proof(object_name, field)
        return known is not None and known[0] and self._clock() - known[1] < PROOF_MAX_AGE

    def proof_due(self, object_name: str, field: str) -> bool:
        """Whether a write read back should check `field` again: never checked, or not for `PROOF_RENEW_AGE`."""
        known = self.proof(object_name, field)
        return known is None or self._clock() - known[1] >= PROOF_RENEW_AGE

    def record_proof(self, object_name: str, field: str, holds: bool) -> None:
        """Remember what a write read back showed of `field`: it held what was written, or it did not."""
        name = (object_name.upper(), field.upper())
        now = self._clock()
        self._proofs[name] = (holds, now)
        if self._cache is not None:
            try:
                self._cache.put_definition(CachedDefinition(self._proof_key(*name), _HOLDS if holds else "{}", now))
            except StateError as exc:
                logger.warning("field proof not kept", extra={"object": name[0], "field": name[1], "error": str(exc)})

    def _proof_key(self, object_name: str, field: str) -> str:
        return f"PROOF|{object_name}.{field}|{self._scope}"

    def _recent(self, at: datetime | None) -> bool:
        return at is not None and self._clock() - at < self._max_age

    def _key(self, object_name: str) -> str:
        return f"{object_name}|{self._scope}"
