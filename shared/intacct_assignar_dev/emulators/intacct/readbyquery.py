"""The SQL-like `query` string of readByQuery, parsed into the condition tree `query` filters use.
Comparisons, [NOT] LIKE, [NOT] IN, IS [NOT] NULL, AND/OR/NOT, parentheses; no joins, so no dotted fields.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import IntacctError, query_failed
from .filters import Comparison, Condition, Junction, Negation, comparison, field_of
from .schema import ObjectDef

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>'(?:\\.|''|[^'\\])*')
      | (?P<number>-?\d+(?:\.\d+)?)
      | (?P<operator><=|>=|<>|!=|=|<|>)
      | (?P<punct>[(),])
      | (?P<word>[A-Za-z_][A-Za-z0-9_.]*)
    )""",
    re.VERBOSE,
)
_OPERATORS = {
    "=": "equalto",
    "!=": "notequalto",
    "<>": "notequalto",
    "<": "lessthan",
    "<=": "lessthanorequalto",
    ">": "greaterthan",
    ">=": "greaterthanorequalto",
}
_KEYWORDS = frozenset({"AND", "OR", "NOT", "LIKE", "IN", "IS", "NULL"})


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    position: int


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    position = 0
    stripped_end = len(text.rstrip())
    while position < stripped_end:
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise IntacctError(query_failed(f"Invalid query near position {position}: {text[position:][:20]!r}"))
        kind = match.lastgroup or ""
        value, start = match.group(kind), match.start(kind)
        if kind == "word" and value.upper() in _KEYWORDS:
            kind, value = "keyword", value.upper()
        elif kind == "string":
            value = re.sub(r"\\(.)", r"\1", value[1:-1].replace("''", "'"))
        tokens.append(Token(kind, value, start))
        position = match.end()
    return tokens


class _Parser:
    def __init__(self, obj: ObjectDef, text: str) -> None:
        self.obj = obj
        self.text = text
        self.tokens = tokenize(text)
        self.index = 0

    def peek(self, kind: str, text: str | None = None) -> bool:
        if self.index >= len(self.tokens):
            return False
        token = self.tokens[self.index]
        return token.kind == kind and (text is None or token.text == text)

    def take(self, kind: str, text: str | None = None) -> Token:
        if not self.peek(kind, text):
            found = self.tokens[self.index].text if self.index < len(self.tokens) else "end of query"
            raise IntacctError(query_failed(f"Invalid query: expected {text or kind}, found '{found}'"))
        token = self.tokens[self.index]
        self.index += 1
        return token

    def parse(self) -> Condition:
        condition = self.disjunction()
        if self.index != len(self.tokens):
            raise IntacctError(query_failed(f"Invalid query: unexpected '{self.tokens[self.index].text}'"))
        return condition

    def disjunction(self) -> Condition:
        parts = [self.conjunction()]
        while self.peek("keyword", "OR"):
            self.take("keyword")
            parts.append(self.conjunction())
        return parts[0] if len(parts) == 1 else Junction("or", tuple(parts))

    def conjunction(self) -> Condition:
        parts = [self.unary()]
        while self.peek("keyword", "AND"):
            self.take("keyword")
            parts.append(self.unary())
        return parts[0] if len(parts) == 1 else Junction("and", tuple(parts))

    def unary(self) -> Condition:
        if self.peek("keyword", "NOT"):
            self.take("keyword")
            return Negation(self.unary())
        if self.peek("punct", "("):
            self.take("punct")
            inner = self.disjunction()
            self.take("punct", ")")
            return inner
        return self.comparison()

    def value(self) -> str:
        if self.peek("string"):
            return self.take("string").text
        if self.peek("number"):
            return self.take("number").text
        found = self.tokens[self.index].text if self.index < len(self.tokens) else "end of query"
        raise IntacctError(query_failed(f"Invalid query: expected a quoted value or a number, found '{found}'"))

    def comparison(self) -> Comparison:
        name = self.take("word").text.upper()
        if "." in name:
            raise IntacctError(
                query_failed(f"readByQuery cannot filter on the related field {name}; use query instead")
            )
        field_of(self.obj, name)
        if self.peek("operator"):
            operator = _OPERATORS[self.take("operator").text]
            return comparison(self.obj, name, operator, [self.value()], legacy=True)
        if self.peek("keyword", "IS"):
            self.take("keyword")
            negated = self.peek("keyword", "NOT")
            if negated:
                self.take("keyword")
            self.take("keyword", "NULL")
            return comparison(self.obj, name, "isnotnull" if negated else "isnull", [], legacy=True)
        negated = self.peek("keyword", "NOT")
        if negated:
            self.take("keyword")
        if self.peek("keyword", "LIKE"):
            self.take("keyword")
            return comparison(self.obj, name, "notlike" if negated else "like", [self.value()], legacy=True)
        self.take("keyword", "IN")
        self.take("punct", "(")
        values = [self.value()]
        while self.peek("punct", ","):
            self.take("punct")
            values.append(self.value())
        self.take("punct", ")")
        return comparison(self.obj, name, "notin" if negated else "in", values, legacy=True)


def parse_read_by_query(obj: ObjectDef, text: str | None) -> Condition | None:
    """The condition of a readByQuery `query` string; None when it is empty (all records)."""
    if text is None or not text.strip():
        return None
    return _Parser(obj, text).parse()
