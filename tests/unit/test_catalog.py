"""The catalog of a company's fields: definitions kept a day, refreshed after refusals, relationships (no sockets)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from intacct_assignar.catalog import FieldCatalog
from intacct_assignar.intacct import IntacctBusinessError, ObjectDefinition, Relationship
from intacct_assignar.state import CachedDefinition


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


def test_a_field_query_refuses_though_lookup_lists_it_is_not_offered_for_a_day() -> None:
    # Given a definition listing SHIPTO.CONTACTNAME, which Intacct's query then refused
    intacct, cache, clock = FakeIntacct({"PROJECT": PROJECT}), FakeCache(), Clock()
    fields = catalog(intacct, cache, clock)
    fields.refuse("project", "shipto.contactname")

    # Then it is not offered, without asking Intacct again, until a definition would be asked for again
    assert not fields.offers("PROJECT", "SHIPTO.CONTACTNAME")
    assert fields.offers("PROJECT", "PROJECTID")
    clock.at += timedelta(hours=25)
    assert fields.offers("PROJECT", "SHIPTO.CONTACTNAME")
    assert intacct.asked == ["PROJECT", "PROJECT"]


def test_a_related_object_whose_lookup_is_refused_is_not_asked_again_until_tomorrow() -> None:
    # Given PROJECT relating to CUSTOMER, whose lookup this company refuses
    intacct, cache, clock = FakeIntacct({"PROJECT": PROJECT}), FakeCache(), Clock()
    fields = catalog(intacct, cache, clock)

    # When three selects ask for fields through it
    for _ in range(3):
        assert not fields.offers("PROJECT", "CUSTOMER.NAME")

    # Then CUSTOMER was asked once
    assert intacct.asked == ["PROJECT", "CUSTOMER"]
