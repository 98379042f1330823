"""The XML gateway without HTTP: request envelope in, response envelope out, with sessions and control ids.
Checks in Intacct's order: XML schema (control), sender (HTTP 401), authentication, then each function.
"""

from __future__ import annotations

import secrets
import threading
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from intacct_assignar.intacct.xmlcodec import XmlRefusedError, parse_xml, to_xml

from .errors import (
    API_SESSION_NOT_ALONE,
    ROLLED_BACK_ERROR,
    SENDER_REFUSED,
    SIGN_IN_INCORRECT,
    ErrorDetail,
    IntacctError,
    duplicate_control_id,
    errormessage,
    invalid_entity,
    invalid_session,
    sender_not_authorized,
    xml_schema,
)
from .functions import FUNCTIONS, Call, Cursors, Outcome
from .store import IntacctStore

XML_CONTENT_TYPE = 'text/xml; encoding="UTF-8"'
SUPPORTED_DTD = "3.0"
_LISTS = frozenset({"operation", "function", "order", "value", "TIMESHEETENTRY", "potransitem", "PODOCUMENTENTRY"})
_LIST_PARENTS = frozenset({"select", "and", "or", "filter", "create", "update"})


def _always_list(parent: str | None, tag: str) -> bool:
    return tag in _LISTS or parent in _LIST_PARENTS


@dataclass(frozen=True)
class EmulatorCredentials:
    """The Web Services sender and API user the emulated company accepts."""

    sender_id: str = "emulated-sender"
    sender_password: str = "emulated-sender-password"  # noqa: S105 - a fixed test credential, not a secret
    company_id: str = "EMULATED-CO"
    user_id: str = "xml_gateway"
    user_password: str = "emulated-user-password"  # noqa: S105 - a fixed test credential, not a secret
    # Entity to sign in to (a LOCATIONID), or None for the top level.
    entity_id: str | None = None


@dataclass
class Session:
    session_id: str
    user_id: str
    location_id: str | None
    last_used: datetime


@dataclass
class EmulatorStats:
    """What the emulator was asked to do; `api_transactions` counts as Intacct bills (reference §6.1)."""

    http_requests: int = 0
    functions: Counter[str] = field(default_factory=Counter)
    api_transactions: int = 0
    sessions_created: int = 0
    throttled: int = 0
    faults: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, name: str, amount: int = 1) -> None:
        with self._lock:
            setattr(self, name, getattr(self, name) + amount)

    def count_function(self, name: str) -> None:
        with self._lock:
            self.functions[name] += 1

    def count_fault(self, kind: str) -> None:
        with self._lock:
            self.faults[kind] += 1

    def reset(self) -> None:
        with self._lock:
            self.http_requests = self.api_transactions = self.sessions_created = self.throttled = 0
            self.functions.clear()
            self.faults.clear()


@dataclass(frozen=True)
class GatewayReply:
    status: int
    body: bytes
    content_type: str = XML_CONTENT_TYPE


class _ControlFailure(Exception):
    def __init__(self, error: ErrorDetail, status: int = 200) -> None:
        super().__init__(error.description2 or error.description)
        self.error = error
        self.status = status
        self.echo: dict[str, Any] = {}


def _control_echo(control: Mapping[str, Any]) -> dict[str, Any]:
    """What every response's <control> repeats from the request (uniqueid and dtdversion with their defaults)."""
    return {
        "senderid": control.get("senderid"),
        "controlid": control.get("controlid"),
        "uniqueid": control.get("uniqueid") or "true",
        "dtdversion": control.get("dtdversion") or SUPPORTED_DTD,
    }


class Gateway:
    """One company's XML gateway."""

    def __init__(
        self,
        store: IntacctStore,
        credentials: EmulatorCredentials,
        *,
        session_duration_s: float,
        endpoint_url: Callable[[], str],
        stats: EmulatorStats,
    ) -> None:
        self.store = store
        self.credentials = credentials
        self.session_duration = timedelta(seconds=session_duration_s)
        self.endpoint_url = endpoint_url
        self.stats = stats
        self.cursors = Cursors()
        self._lock = threading.RLock()
        self._sessions: dict[str, Session] = {}
        # Function control ids that executed and completed, for uniqueid=true (per company: one company here).
        self._completed_control_ids: set[str] = set()

    def expire_sessions(self) -> None:
        with self._lock:
            self._sessions.clear()

    def expire_result_ids(self) -> None:
        self.cursors.clear()

    # --- envelope -------------------------------------------------------------------------------------------

    def handle(self, body: bytes) -> GatewayReply:
        control: dict[str, Any] = {"status": "failure"}
        try:
            request = self._parse(body)
            raw_control = request["control"]
            control = {"status": "success", **_control_echo(raw_control)}
            self._check_sender(raw_control)
            operations = [self._operation(op, control) for op in request["operation"]]
        except _ControlFailure as failure:
            # A refused sender learns nothing back; a schema error echoes what control it could read.
            control = {"status": "failure", **(failure.echo if failure.status != 401 else {})}
            document = {"response": {"control": control, "errormessage": errormessage([failure.error])}}
            return GatewayReply(failure.status, to_xml(document))
        return GatewayReply(200, to_xml({"response": {"control": control, "operation": operations}}))

    def _parse(self, body: bytes) -> dict[str, Any]:
        try:
            document = parse_xml(body, force_list=_always_list)
        except XmlRefusedError as exc:
            raise _ControlFailure(xml_schema(str(exc))) from exc
        request = document.get("request")
        if not isinstance(request, Mapping) or set(document) != {"request"}:
            raise _ControlFailure(xml_schema("the document element must be <request>"))
        control = request.get("control")
        if not isinstance(control, Mapping):
            raise _ControlFailure(xml_schema("<request> needs a <control> element"))
        try:
            self._validate_request(request, control)
        except _ControlFailure as failure:
            failure.echo = _control_echo(control)
            raise
        return dict(request)

    def _validate_request(self, request: Mapping[str, Any], control: Mapping[str, Any]) -> None:
        for name in ("senderid", "controlid"):
            if not control.get(name):
                raise _ControlFailure(xml_schema(f"<control> needs a non-empty <{name}>"))
        if len(str(control["controlid"])) > 256:
            raise _ControlFailure(xml_schema("<controlid> is longer than 256 characters"))
        if (control.get("dtdversion") or SUPPORTED_DTD) != SUPPORTED_DTD:
            raise _ControlFailure(xml_schema(f"dtdversion {control.get('dtdversion')} is not supported; use 3.0"))
        operations = request.get("operation")
        if not operations:
            raise _ControlFailure(xml_schema("<request> needs an <operation> element"))
        for operation in operations:
            self._validate_operation(operation)

    def _validate_operation(self, operation: Any) -> None:
        if not isinstance(operation, Mapping) or not isinstance(operation.get("authentication"), Mapping):
            raise _ControlFailure(xml_schema("<operation> needs an <authentication> element"))
        content = operation.get("content")
        functions = content.get("function") if isinstance(content, Mapping) else None
        if not functions:
            raise _ControlFailure(xml_schema("<content> needs at least one <function>"))
        for function in functions:
            if not isinstance(function, Mapping) or not function.get("@controlid"):
                raise _ControlFailure(xml_schema("each <function> needs a controlid attribute"))
            if len(str(function["@controlid"])) > 256:
                raise _ControlFailure(xml_schema("a function controlid is longer than 256 characters"))
            names = [name for name in function if not name.startswith("@")]
            if len(names) != 1:
                raise _ControlFailure(xml_schema("each <function> holds exactly one function element"))
            if names[0] not in FUNCTIONS and names[0] != "getAPISession":
                raise _ControlFailure(xml_schema(f"Element '{names[0]}': This element is not expected."))

    def _check_sender(self, control: Mapping[str, Any]) -> None:
        if control.get("senderid") != self.credentials.sender_id or (
            control.get("password") != self.credentials.sender_password
        ):
            raise _ControlFailure(SENDER_REFUSED, status=401)

    # --- authentication -------------------------------------------------------------------------------------

    def _authenticate(self, authentication: Mapping[str, Any]) -> tuple[str, str | None, Session | None]:
        """(user, entity, session) for a login or a live session; IntacctError when refused."""
        now = self.store.now()
        session_id = authentication.get("sessionid")
        if session_id is not None:
            with self._lock:
                session = self._sessions.get(str(session_id))
                if session is not None and now - session.last_used > self.session_duration:
                    del self._sessions[session.session_id]
                    session = None
                if session is None:
                    raise IntacctError(invalid_session(str(session_id)))
                # "If a call occurs before the projected timeout, it is reset to the current time plus the duration."
                session.last_used = max(session.last_used, now)
                return session.user_id, session.location_id, session
        login = authentication.get("login")
        if not isinstance(login, Mapping):
            raise IntacctError(SIGN_IN_INCORRECT)
        if login.get("companyid") != self.credentials.company_id:
            raise IntacctError(sender_not_authorized(self.credentials.sender_id, str(login.get("companyid") or "")))
        if login.get("userid") != self.credentials.user_id or login.get("password") != self.credentials.user_password:
            raise IntacctError(SIGN_IN_INCORRECT)
        location_id = login.get("locationid")
        self._check_entity(location_id)
        return str(login["userid"]), location_id, None

    def _check_entity(self, location_id: Any) -> None:
        if location_id is not None and self.store.find("LOCATION", location_id) is None:
            raise IntacctError(invalid_entity(str(location_id)))

    def _authentication_block(self, status: str, user_id: str | None, location_id: str | None) -> dict[str, Any]:
        now = self.store.now()
        block: dict[str, Any] = {
            "status": status,
            "userid": user_id,
            "companyid": self.credentials.company_id if user_id else None,
            "locationid": location_id,
        }
        if status == "success":
            block["sessiontimestamp"] = now.replace(tzinfo=self.store.timezone).isoformat()
            timeout = now + self.session_duration
            block["sessiontimeout"] = timeout.replace(tzinfo=self.store.timezone).isoformat()
        return block

    # --- operation ------------------------------------------------------------------------------------------

    def _operation(self, operation: Mapping[str, Any], control: Mapping[str, Any]) -> dict[str, Any]:
        try:
            user_id, location_id, session = self._authenticate(operation["authentication"])
        except IntacctError as error:
            login = operation["authentication"].get("login")
            user = login.get("userid") if isinstance(login, Mapping) else None
            return {
                "authentication": self._authentication_block("failure", user, None),
                "errormessage": errormessage(error.errors),
            }
        functions = operation["content"]["function"]
        unique = str(control["uniqueid"]).strip().lower() != "false"
        transactional = str(operation.get("@transaction", "false")).strip().lower() == "true"
        owner = session.session_id if session else f"login:{user_id}"
        call = Call(self.store, self.cursors, user_id, owner)
        if transactional:
            results = self._run_transaction(call, functions, unique, location_id, session)
        else:
            results = [
                self._run(call, function, unique, location_id, session, len(functions)) for function in functions
            ]
        return {"authentication": self._authentication_block("success", user_id, location_id), "result": results}

    def _run_transaction(
        self,
        call: Call,
        functions: list[Mapping[str, Any]],
        unique: bool,
        location_id: str | None,
        session: Session | None,
    ) -> list[dict[str, Any]]:
        """All or nothing: on the first failure everything is rolled back and the others come back aborted."""
        outcomes: list[tuple[str, str, Outcome | None]] = []
        with self.store.transaction() as transaction:
            failed = False
            for function in functions:
                name, control_id, body = _function_parts(function)
                if failed:
                    outcomes.append((name, control_id, None))
                    continue
                outcome = self._execute(call, name, control_id, body, unique, location_id, session, len(functions))
                failed = bool(outcome.errors)
                outcomes.append((name, control_id, outcome))
            if failed:
                self.store.rollback(transaction)
        results = []
        for name, control_id, done in outcomes:
            if done is not None and done.errors:
                # Rolled back: what the failing function wrote is gone, so only its errors are reported.
                results.append(_result(name, control_id, Outcome({}, done.errors)))
            elif failed or done is None:
                results.append(_result(name, control_id, None))
            else:
                self._completed(control_id, done)
                results.append(_result(name, control_id, done))
        return results

    def _run(
        self,
        call: Call,
        function: Mapping[str, Any],
        unique: bool,
        location_id: str | None,
        session: Session | None,
        siblings: int,
    ) -> dict[str, Any]:
        name, control_id, body = _function_parts(function)
        outcome = self._execute(call, name, control_id, body, unique, location_id, session, siblings)
        if not outcome.errors:
            self._completed(control_id, outcome)
        else:
            self.stats.add("api_transactions", outcome.api_transactions)
        return _result(name, control_id, outcome)

    def _completed(self, control_id: str, outcome: Outcome) -> None:
        self.stats.add("api_transactions", outcome.api_transactions)
        with self._lock:
            self._completed_control_ids.add(control_id)

    def _execute(
        self,
        call: Call,
        name: str,
        control_id: str,
        body: Any,
        unique: bool,
        location_id: str | None,
        session: Session | None,
        siblings: int,
    ) -> Outcome:
        self.stats.count_function(name)
        with self._lock:
            repeated = unique and control_id in self._completed_control_ids
        if repeated:
            return Outcome({}, (duplicate_control_id(control_id),))
        try:
            if name == "getAPISession":
                if siblings > 1:
                    raise IntacctError(API_SESSION_NOT_ALONE)
                return self._get_api_session(call.user_id, body, location_id, session)
            return FUNCTIONS[name](call, body)
        except IntacctError as error:
            return Outcome({}, error.errors)

    def _get_api_session(self, user_id: str, body: Any, location_id: str | None, session: Session | None) -> Outcome:
        if isinstance(body, Mapping) and "locationid" in body:
            # An empty <locationid/> returns the session to the top level (2019 R2).
            location_id = body["locationid"]
            self._check_entity(location_id)
        if session is None or session.location_id != location_id:
            session = Session(secrets.token_urlsafe(24) + "..", user_id, location_id, self.store.now())
            with self._lock:
                self._sessions[session.session_id] = session
            self.stats.add("sessions_created")
        api = {"sessionid": session.session_id, "endpoint": self.endpoint_url(), "locationid": location_id}
        return Outcome({"data": {"api": api}})


def _function_parts(function: Mapping[str, Any]) -> tuple[str, str, Any]:
    name = next(key for key in function if not key.startswith("@"))
    return name, str(function["@controlid"]), function[name]


def _result(name: str, control_id: str, outcome: Outcome | None) -> dict[str, Any]:
    if outcome is None:
        return {
            "status": "aborted",
            "function": name,
            "controlid": control_id,
            "errormessage": errormessage([ROLLED_BACK_ERROR]),
        }
    result: dict[str, Any] = {
        "status": "failure" if outcome.errors else "success",
        "function": name,
        "controlid": control_id,
        **outcome.payload,
    }
    if outcome.errors:
        result["errormessage"] = errormessage(outcome.errors)
    return result
