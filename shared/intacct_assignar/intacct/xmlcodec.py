"""Safe XML in and out for the Intacct gateway: entities and DTDs refused, values escaped, dict order kept.

Both the client and the emulator use this module, so there is one place that decides how Intacct XML is read
and written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any
from xml.parsers import expat

import xmltodict


class XmlRefusedError(ValueError):
    """The bytes are not XML we are willing to parse (malformed, or carrying a DTD or entity declarations)."""


def _refuse_doctype(*_args: object) -> None:
    # A DOCTYPE is how billion-laughs and external-entity payloads get in; Intacct never sends one.
    raise XmlRefusedError("XML with a DOCTYPE declaration is refused")


# Intacct's answers nest about ten elements deep (response/operation/result/data/TIMESHEET/…/field) and our
# requests' filters a few more; anything far deeper is hostile, and would only fail later, less clearly.
MAX_DEPTH = 100


class _DepthGuardedParser:
    """An expat parser whose start-element handler refuses nesting beyond MAX_DEPTH.

    xmltodict sets its handlers on the parser it gets; its handler keeps the open elements in `path`, so one
    length check per element is all the guard costs.
    """

    def __init__(self, parser: Any) -> None:
        object.__setattr__(self, "_parser", parser)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._parser, name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "StartElementHandler":
            value = _depth_checked(value)
        setattr(self._parser, name, value)


def _depth_checked(handler: Callable[..., Any]) -> Callable[..., Any]:
    open_elements: list[Any] = getattr(getattr(handler, "__self__", None), "path", [])

    def start(name: str, attributes: Any) -> Any:
        if len(open_elements) >= MAX_DEPTH:
            raise XmlRefusedError(f"XML nested deeper than {MAX_DEPTH} elements is refused")
        return handler(name, attributes)

    return start


class _GuardedExpat:
    """Stands in for the `expat` module xmltodict calls, so every parser it creates refuses DOCTYPEs and
    nesting deeper than MAX_DEPTH.

    xmltodict already refuses entity declarations (disable_entities=True); this adds the DTD itself.
    """

    ExpatError = expat.ExpatError

    @staticmethod
    def ParserCreate(encoding: str | None = None, namespace_separator: str | None = None) -> Any:
        parser = expat.ParserCreate(encoding, namespace_separator)
        parser.StartDoctypeDeclHandler = _refuse_doctype
        return _DepthGuardedParser(parser)


ListRule = Callable[[str | None, str], bool]
"""Decides from (parent tag, tag) whether an element always parses as a list."""


def parse_xml(body: bytes | str, *, force_list: Iterable[str] | ListRule = ()) -> dict[str, Any]:
    """Parse an XML document into nested dicts (attributes as '@name', text as '#text' when mixed).

    Empty elements become None. Elements picked by `force_list` (tag names, or a rule on parent and tag)
    always come back as lists, so one record is a list of one.
    """
    names: frozenset[str] = frozenset()
    if callable(force_list):
        rule = force_list
    else:
        names = frozenset(force_list)

        def rule(_parent: str | None, tag: str) -> bool:
            return tag in names

    # At run time xmltodict passes the list of (tag, attributes) ancestors; its type stubs say otherwise.
    def _force(path: Any, key: str, _value: Any) -> bool:
        return rule(path[-1][0] if path else None, key)

    # Without a rule, skip the per-element callback altogether: it costs a third of the parse.
    forcing = _force if callable(force_list) or names else None
    try:
        parsed = xmltodict.parse(body, expat=_GuardedExpat, disable_entities=True, force_list=forcing)
    except XmlRefusedError:
        raise
    except (expat.ExpatError, ValueError) as exc:
        raise XmlRefusedError(f"not well-formed XML: {exc}") from exc
    if not isinstance(parsed, dict):
        raise XmlRefusedError("XML document has no root element")
    return parsed


def to_xml(document: Mapping[str, Any]) -> bytes:
    """Serialize nested dicts (insertion order = element order) to UTF-8 XML; text and attributes are escaped."""
    return xmltodict.unparse(document, encoding="utf-8", full_document=True, short_empty_elements=True).encode("utf-8")
