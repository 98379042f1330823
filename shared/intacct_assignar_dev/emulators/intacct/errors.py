"""The errors the emulated gateway answers with, in Intacct's own codes and words.
Texts marked [gap] are undocumented guesses, one constant each, so a sandbox finding is a one-line change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ErrorDetail:
    """One `<error>` element."""

    errorno: str
    description: str = ""
    description2: str = ""
    correction: str = ""

    def to_xml(self) -> dict[str, Any]:
        return {
            "errorno": self.errorno,
            "description": self.description or None,
            "description2": self.description2 or None,
            "correction": self.correction or None,
        }


class IntacctError(Exception):
    """A function, authentication or control failure carrying the `<error>` elements to answer with."""

    def __init__(self, *errors: ErrorDetail) -> None:
        super().__init__("; ".join(f"{error.errorno}: {error.description2 or error.description}" for error in errors))
        self.errors: tuple[ErrorDetail, ...] = errors


def errormessage(errors: tuple[ErrorDetail, ...] | list[ErrorDetail]) -> dict[str, Any]:
    return {"error": [error.to_xml() for error in errors]}


# Generic business error: Intacct uses it for most refusals ("Could not create project record!").
BUSINESS = "BL01001973"
DUPLICATE_VALUE = "BL34000061"
AUTHENTICATION = "XL03000006"
XML_SCHEMA = "XL03000003"
ROLLED_BACK = "XL03000009"
QUERY_FAILED = "Query Failed"
READ_MORE_FAILED = "readMore failed"
RATE_LIMITED = "GW-0010"
SENDER_SIGN_IN = "XMLGW_JPP0002"


def business(description2: str, correction: str = "") -> ErrorDetail:
    return ErrorDetail(BUSINESS, description2=description2, correction=correction)


def duplicate_value(label: str, value: str) -> ErrorDetail:
    # The double space before "already" is in Intacct's own message (jfcote87/intacct execFuncError.xml).
    return ErrorDetail(
        DUPLICATE_VALUE,
        description2=f"Another {label} with the given value(s) {value}  already exists",
        correction="Use a unique value instead.",
    )


def xml_schema(detail: str) -> ErrorDetail:
    return ErrorDetail(XML_SCHEMA, description2=f"XML Parse schema error: {detail}")


def query_failed(detail: str) -> ErrorDetail:
    return ErrorDetail(QUERY_FAILED, description=detail, description2=detail)


ROLLED_BACK_ERROR = ErrorDetail(
    ROLLED_BACK,
    description="The entire transaction in this operation has been rolled back due to an error.",
)

SENDER_REFUSED = ErrorDetail(SENDER_SIGN_IN, description="Sign-in information is incorrect. Please check your request.")

SIGN_IN_INCORRECT = ErrorDetail(AUTHENTICATION, description2="Sign-in information is incorrect")


def invalid_session(session_id: str) -> ErrorDetail:
    return ErrorDetail(AUTHENTICATION, description2=f"Invalid session {session_id}")


def sender_not_authorized(sender_id: str, company_id: str) -> ErrorDetail:
    return ErrorDetail(
        AUTHENTICATION,
        description="Invalid Web Services Authorization",
        description2=f"The sender ID '{sender_id}' is not authorized to make Web Services requests to company ID "
        f"'{company_id}'.",
        correction="Contact the company administrator to grant Web Services authorization to this sender ID.",
    )


def invalid_entity(location_id: str) -> ErrorDetail:
    # [gap] The text for signing in to an entity that does not exist is undocumented.
    return ErrorDetail(
        AUTHENTICATION,
        description2=f"Sign-in information is incorrect: '{location_id}' is not an entity of this company",
        correction="Use a LOCATIONID of an entity in the company.",
    )


RATE_LIMIT_EXCEEDED = ErrorDetail(
    RATE_LIMITED,
    description="API rate limit exceeded",
    description2="Too many requests in a short period: this company allows one API transaction job at a time.",
    correction="Implement a backoff mechanism and retry the request. Please Try Again Later.",
)


# A `query` whose select names a field the company does not offer: this errorno and description are what an
# independent gateway answered (the emulator's own `Invalid field` wording was a guess). readByQuery, read and
# readByName keep the errorno-only form the reference records (§2.3).
INVALID_FIELDS_LIST = "Invalid fields list"


def invalid_select(name: str, obj: str) -> ErrorDetail:
    return ErrorDetail(INVALID_FIELDS_LIST, description=f"{INVALID_FIELDS_LIST} {name} for object {obj}")


def invalid_fields_list(name: str) -> ErrorDetail:
    return ErrorDetail(f"{INVALID_FIELDS_LIST} {name}")


# [gap] Intacct does not document its answer to a read of an object the Web Services user has no permission
# for. This errorno and wording are a guess shaped by what clients match: fylein's client looks for the text
# "You do not have permission for API" (reference §2.3). Clients should key on the failed result and name the
# object to the admin, not parse this text. `{function}` and `{object}` are filled in by `permission_denied`.
PERMISSION_DENIED = ErrorDetail(
    "Permission Denied",
    description="You do not have permission for API operation {function} on objects of type {object}",
    correction="Ask the company administrator to give the Web Services user permission to list {object} records.",
)


def permission_denied(function: str, obj: str) -> ErrorDetail:
    return ErrorDetail(
        PERMISSION_DENIED.errorno,
        description=PERMISSION_DENIED.description.format(function=function, object=obj),
        correction=PERMISSION_DENIED.correction.format(function=function, object=obj),
    )


def read_more_failed(result_id: str) -> ErrorDetail:
    return ErrorDetail(
        READ_MORE_FAILED,
        description2=f"Attempt to readMore with an invalid or expired resultId: {result_id}",
        correction="Run the originating readByQuery again.",
    )


# [gap] The answer to a function controlid repeated under uniqueid=true is undocumented (reference §8.1):
# this errorno and wording are a guess to verify in a sandbox. Clients should key on the status and treat it
# as "already done, look the record up", not on this exact text.
DUPLICATE_CONTROL_ID_ERRORNO = BUSINESS
DUPLICATE_CONTROL_ID_DESCRIPTION = "Duplicate function control ID"


def duplicate_control_id(control_id: str) -> ErrorDetail:
    return ErrorDetail(
        DUPLICATE_CONTROL_ID_ERRORNO,
        description=DUPLICATE_CONTROL_ID_DESCRIPTION,
        description2=f"A function with control ID '{control_id}' was already executed and completed.",
        correction="Use a new control ID to run the function again, or send uniqueid false.",
    )


# [gap] getAPISession's rule "isolate it in a single request" is documented; the refusal text is not.
API_SESSION_NOT_ALONE = business(
    "getAPISession must be the only function in its request.",
    "Send getAPISession in a request of its own.",
)
