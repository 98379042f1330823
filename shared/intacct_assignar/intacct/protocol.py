"""The XML gateway protocol, with no I/O: building request envelopes and functions, reading responses.

Requests keep the schema order of api.xsd (control, operation/authentication, content/function[@controlid]).
Responses are read case-insensitively and checked at all three levels: control, authentication, each result.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .errors import (
    IntacctAuthenticationError,
    IntacctBusinessError,
    IntacctConfigurationError,
    IntacctDuplicateControlIdError,
    IntacctErrorDetail,
    IntacctInvalidFieldsError,
    IntacctQueryExpiredError,
    IntacctRateLimitError,
    IntacctTransientError,
    clean_description,
    is_duplicate_control_id,
    is_expired_result_id,
    is_invalid_fields_list,
)
from .filters import Filter
from .xmlcodec import XmlRefusedError, parse_xml, to_xml

MAX_QUERY_PAGESIZE = 2000
MAX_READBYQUERY_PAGESIZE = 1000
RATE_LIMIT_ERRORNO = "GW-0010"
AUTHENTICATION_ERRORNO = "XL03000006"

# Wording other clients retry on (reference §2.3): the gateway was briefly unable to take the request at all.
_TEMPORARY_WORDS = ("temporarily off-line", "temporarily offline", "try again later")


class UnreadableAnswerError(ValueError):
    """The gateway's answer cannot be trusted to say what ran: not XML, not a <response>, or unpaired results."""


Record = dict[str, Any]
"""One Intacct record: field integration names (upper case) to text, None for empty, dicts for nested parts."""


# --- functions ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Function:
    """One `<function controlid=...>` element: `name` is the element inside it (query, create, ...)."""

    name: str
    body: Mapping[str, Any] | None
    controlid: str
    writes: int = 0  # records it creates/updates/deletes: Intacct bills each as one API transaction

    @property
    def transactions(self) -> int:
        # getAPISession is a call like any other; reads cost one each however many records they return.
        return self.writes if self.writes else 1

    def to_xml(self) -> dict[str, Any]:
        return {"@controlid": self.controlid, self.name: dict(self.body) if self.body is not None else None}


@dataclass(frozen=True)
class QuerySpec:
    """One `query` of a batch (see `IntacctClient.query_batch`). Here rather than beside the client, so code that only
    describes its queries (the push's reference checks, which the approval watcher's hashing imports) does not load
    the client and its transport."""

    object_name: str
    select: Sequence[str]
    filter: Filter | None = None
    pagesize: int = MAX_QUERY_PAGESIZE
    docparid: str | None = None


def query(
    object_name: str,
    select: Sequence[str],
    *,
    controlid: str,
    filter: Filter | None = None,
    orderby: Sequence[tuple[str, bool]] = (),
    pagesize: int = MAX_QUERY_PAGESIZE,
    offset: int = 0,
    case_insensitive: bool = False,
    docparid: str | None = None,
) -> Function:
    """`query`: `orderby` is (field, ascending) pairs; at most 2000 records a page."""
    if not select:
        raise ValueError("query needs at least one selected field: Intacct does not return all fields")
    if not 1 <= pagesize <= MAX_QUERY_PAGESIZE:
        raise ValueError(f"query pagesize must be 1-{MAX_QUERY_PAGESIZE}, got {pagesize}")
    if offset < 0:
        raise ValueError("query offset must not be negative")
    body: dict[str, Any] = {"object": object_name, "select": {"field": list(select)}}
    if docparid is not None:
        body["docparid"] = docparid
    if filter is not None:
        body["filter"] = filter.to_xml()
    if orderby:
        body["orderby"] = {
            "order": [{"field": name, "ascending" if ascending else "descending": None} for name, ascending in orderby]
        }
    options: dict[str, Any] = {}
    if case_insensitive:
        options["caseinsensitive"] = "true"
    if options:
        body["options"] = options
    body["pagesize"] = str(pagesize)
    body["offset"] = str(offset)
    return Function("query", body, controlid)


def read_by_query(
    object_name: str, query_text: str, *, controlid: str, fields: Sequence[str] = ("*",), pagesize: int = 1000
) -> Function:
    """Legacy `readByQuery` with its SQL-like query string; continue with `read_more`."""
    if not 1 <= pagesize <= MAX_READBYQUERY_PAGESIZE:
        raise ValueError(f"readByQuery pagesize must be 1-{MAX_READBYQUERY_PAGESIZE}, got {pagesize}")
    body = {"object": object_name, "fields": ",".join(fields), "query": query_text, "pagesize": str(pagesize)}
    return Function("readByQuery", body, controlid)


def read_more(result_id: str, *, controlid: str) -> Function:
    return Function("readMore", {"resultId": result_id}, controlid)


def read(object_name: str, keys: Sequence[int | str], *, controlid: str, fields: Sequence[str] = ("*",)) -> Function:
    body = {"object": object_name, "keys": ",".join(str(k) for k in keys), "fields": ",".join(fields)}
    return Function("read", body, controlid)


def lookup(object_name: str, *, controlid: str, docparid: str | None = None) -> Function:
    """`lookup`: the object's fields (ID, DATATYPE, ISCUSTOM…) and relationships in this company; a transaction
    object (PODOCUMENT, SODOCUMENT) takes `docparid` to include that transaction definition's fields (reference
    §3.1)."""
    body: dict[str, Any] = {"object": object_name}
    if docparid is not None:
        body["docparid"] = docparid
    return Function("lookup", body, controlid)


def create(object_name: str, records: Sequence[Mapping[str, Any]], *, controlid: str) -> Function:
    """Generic `create` of one or more records of one object (field values already Intacct text)."""
    if not records:
        raise ValueError("create needs at least one record")
    return Function("create", {object_name: [dict(r) for r in records]}, controlid, writes=len(records))


def update(object_name: str, records: Sequence[Mapping[str, Any]], *, controlid: str) -> Function:
    """Generic `update`; each record names RECORDNO or the object's ID field."""
    if not records:
        raise ValueError("update needs at least one record")
    return Function("update", {object_name: [dict(r) for r in records]}, controlid, writes=len(records))


def delete(object_name: str, keys: Sequence[int | str], *, controlid: str) -> Function:
    return Function("delete", {"object": object_name, "keys": ",".join(str(k) for k in keys)}, controlid, len(keys))


def legacy(name: str, body: Mapping[str, Any], *, controlid: str, writes: int = 1) -> Function:
    """A legacy write such as `create_potransaction` (lower-case fields, answers with `<key>`)."""
    return Function(name, body, controlid, writes=writes)


def get_api_session(*, controlid: str, location_id: str | None = None) -> Function:
    return Function("getAPISession", {"locationid": location_id} if location_id is not None else None, controlid)


# --- envelope ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Login:
    user_id: str
    company_id: str
    password: str = field(repr=False)
    location_id: str | None = None


@dataclass(frozen=True)
class SessionAuth:
    session_id: str = field(repr=False)


def build_request(
    *,
    sender_id: str,
    sender_password: str,
    controlid: str,
    auth: Login | SessionAuth,
    functions: Sequence[Function],
    uniqueid: bool = False,
    transaction: bool = False,
) -> bytes:
    """The whole `<request>` document, elements in api.xsd sequence order."""
    if not functions:
        raise ValueError("a request needs at least one function")
    if len(functions) > 1 and any(f.name == "getAPISession" for f in functions):
        raise ValueError("getAPISession must be alone in its request")
    controlids = [f.controlid for f in functions]
    if len(set(controlids)) != len(controlids):
        raise ValueError("function control IDs must be unique within a request")
    if isinstance(auth, Login):
        login: dict[str, Any] = {"userid": auth.user_id, "companyid": auth.company_id, "password": auth.password}
        if auth.location_id:
            login["locationid"] = auth.location_id
        authentication: dict[str, Any] = {"login": login}
    else:
        authentication = {"sessionid": auth.session_id}
    document = {
        "request": {
            "control": {
                "senderid": sender_id,
                "password": sender_password,
                "controlid": controlid,
                "uniqueid": "true" if uniqueid else "false",
                "dtdversion": "3.0",
                "includewhitespace": "false",
            },
            "operation": {
                "@transaction": "true" if transaction else "false",
                "authentication": authentication,
                "content": {"function": [f.to_xml() for f in functions]},
            },
        }
    }
    return to_xml(document)


# --- responses ---------------------------------------------------------------------------------------


def as_list(value: Any) -> list[Any]:
    """xmltodict gives one element as a dict and several as a list: one result or record is a list of one."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def child(node: Any, name: str) -> Any:
    """A child element by name, case-insensitively (Intacct mixes `project`, `PROJECT`, `resultId`)."""
    if not isinstance(node, Mapping):
        return None
    if name in node:
        return node[name]
    lowered = name.lower()
    for key, value in node.items():
        if key.lower() == lowered:
            return value
    return None


def text(node: Any, name: str) -> str | None:
    value = child(node, name)
    if isinstance(value, Mapping):
        value = value.get("#text")
    return value.strip() if isinstance(value, str) else None


def read_errors(errormessage: Any) -> list[IntacctErrorDetail]:
    details = []
    for error in as_list(child(errormessage, "error")):
        details.append(
            IntacctErrorDetail(
                errorno=text(error, "errorno") or "unknown",
                description=clean_description(text(error, "description")),
                description2=clean_description(text(error, "description2")),
                correction=clean_description(text(error, "correction")),
            )
        )
    return details


def _record(raw: Any) -> Record:
    if not isinstance(raw, Mapping):
        return {}
    if type(raw) is dict:
        for key, value in raw.items():
            # Upper case ASCII already, not an attribute, plain text or empty: nothing to change.
            if not (key.isupper() and key.isascii() and key[0] != "@" and (value is None or type(value) is str)):
                break
        else:
            # A query's records nearly always are so: taken as they are, a page is held once in memory rather
            # than twice (xmltodict's dicts and our copies), and no time is spent copying it.
            return raw
    # Most fields are plain text: only nested parts (timesheet entries, addresses) need the recursive walk.
    return {
        key.upper(): value if value is None or isinstance(value, str) else _value(value)
        for key, value in raw.items()
        if key[0] != "@"
    }


def _value(raw: Any) -> Any:
    if isinstance(raw, Mapping):
        return {key.upper(): _value(value) for key, value in raw.items() if not key.startswith("@")}
    if isinstance(raw, list):
        return [_value(item) for item in raw]
    return raw


@dataclass(frozen=True)
class Authentication:
    user_id: str | None
    company_id: str | None
    location_id: str | None
    session_timestamp: str | None
    session_timeout: str | None


@dataclass
class Result:
    """One `<result>`: status, and the data (records and paging attributes) or the errors."""

    status: str
    function: str
    controlid: str
    records: list[Record] = field(default_factory=list)
    listtype: str | None = None
    count: int | None = None
    totalcount: int | None = None
    numremaining: int | None = None
    offset: int | None = None
    result_id: str | None = None
    key: str | None = None
    errors: list[IntacctErrorDetail] = field(default_factory=list)
    raw_data: Any = None

    @property
    def ok(self) -> bool:
        return self.status == "success"

    def error(self) -> IntacctBusinessError:
        """The typed error for a failed or aborted result."""
        kind: type[IntacctBusinessError] = IntacctBusinessError
        if is_duplicate_control_id(self.errors):
            kind = IntacctDuplicateControlIdError
        elif is_expired_result_id(self.errors):
            kind = IntacctQueryExpiredError
        elif is_invalid_fields_list(self.errors):
            kind = IntacctInvalidFieldsError
        return kind(
            f"Intacct refused {self.function} ({self.status})",
            self.errors,
            function=self.function,
            controlid=self.controlid,
        )

    def raise_for_status(self) -> Result:
        if not self.ok:
            raise self.error()
        return self


@dataclass
class Response:
    authentication: Authentication
    results: list[Result]


def _int(value: str | None) -> int | None:
    return int(value) if value not in (None, "") else None


def _read_result(raw: Any) -> Result:
    data = child(raw, "data")
    result = Result(
        status=(text(raw, "status") or "").lower(),
        function=text(raw, "function") or "",
        controlid=text(raw, "controlid") or "",
        errors=read_errors(child(raw, "errormessage")),
        key=text(raw, "key"),
        raw_data=data,
    )
    if isinstance(data, Mapping):
        result.listtype = data.get("@listtype")
        result.count = _int(data.get("@count"))
        result.totalcount = _int(data.get("@totalcount"))
        result.numremaining = _int(data.get("@numremaining"))
        result.offset = _int(data.get("@offset"))
        result.result_id = data.get("@resultId") or data.get("@resultid") or None
        for key, value in data.items():
            if key.startswith("@"):
                continue
            result.records.extend(_record(raw) for raw in as_list(value))
    return result


def parse_response(body: bytes, *, http_status: int = 200) -> Response:
    """Read a gateway answer and raise for control and authentication failures.

    Function-level failures stay on each `Result`; the caller decides (a failed create in a batch of ten
    must not hide the nine that worked). Raises `XmlRefusedError` for bodies that are not XML.
    """
    # Lists are normalized where they are read (`as_list`): cheaper than a force_list rule on every element.
    try:
        document = parse_xml(body)
    except XmlRefusedError as exc:
        raise UnreadableAnswerError(f"a body that is not XML ({exc})") from exc
    response = child(document, "response")
    if not isinstance(response, Mapping):
        raise UnreadableAnswerError(f"XML that is not an Intacct <response> (root <{next(iter(document), '')}>)")
    control = child(response, "control")
    if (text(control, "status") or "").lower() != "success":
        details = read_errors(child(response, "errormessage"))
        if _temporary(details):
            # Refused before anything ran, so a retry is safe even for a write.
            raise IntacctTransientError("Intacct is temporarily unavailable", details, http_status=http_status)
        if http_status == 429 or any(d.errorno == RATE_LIMIT_ERRORNO for d in details):
            raise IntacctRateLimitError("Intacct rate limit (GW-0010)", details, http_status=http_status)
        if any(d.errorno == AUTHENTICATION_ERRORNO for d in details) or http_status == 401:
            raise IntacctAuthenticationError(
                "Intacct refused the Web Services sender", details, http_status=http_status, level="control"
            )
        raise IntacctConfigurationError("Intacct refused the request", details, http_status=http_status)
    operation = child(response, "operation")
    auth = child(operation, "authentication")
    if (text(auth, "status") or "").lower() != "success":
        details = read_errors(child(operation, "errormessage"))
        raise IntacctAuthenticationError(
            "Intacct refused the login or session", details, http_status=http_status, level="authentication"
        )
    authentication = Authentication(
        user_id=text(auth, "userid"),
        company_id=text(auth, "companyid"),
        location_id=text(auth, "locationid"),
        session_timestamp=text(auth, "sessiontimestamp"),
        session_timeout=text(auth, "sessiontimeout"),
    )
    results = [_read_result(raw) for raw in as_list(child(operation, "result"))]
    return Response(authentication, results)


def check_results(results: Sequence[Result], functions: Sequence[Function]) -> None:
    """Refuse an answer whose results do not pair one-to-one with what was sent."""
    sent = [f.controlid for f in functions]
    got = [r.controlid for r in results]
    if len(sent) != len(got) or any(g and g != s for s, g in zip(sent, got, strict=True)):
        raise UnreadableAnswerError(f"results for control IDs {got} to functions {sent}")


def _temporary(details: Sequence[IntacctErrorDetail]) -> bool:
    for detail in details:
        words = " ".join(p for p in (detail.description, detail.description2, detail.correction) if p).lower()
        if any(w in words for w in _TEMPORARY_WORDS):
            return True
    return False
