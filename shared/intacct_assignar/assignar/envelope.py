"""Assignar's response envelope `{status, data, count}`: unwrap it, and spot errors it reports inside a 200."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from intacct_assignar.assignar.errors import ServerError, error_for_response


@dataclass(frozen=True)
class Envelope:
    """One answer from Assignar. `data` is a record, a list of records, or `{count, rows}` (timesheets)."""

    status: int
    data: Any
    count: int | None = None

    @property
    def rows(self) -> list[dict[str, Any]]:
        """The records of a list answer, whichever of Assignar's two list shapes it uses."""
        data = self.data
        if isinstance(data, dict) and isinstance(data.get("rows"), list):
            data = data["rows"]
        if not isinstance(data, list) or not all(isinstance(row, dict) for row in data):
            raise ServerError("Assignar answered a list request without a list of records")
        return data

    @property
    def record(self) -> dict[str, Any]:
        if not isinstance(self.data, dict):
            raise ServerError("Assignar answered a record request without a record")
        return self.data


def parse_envelope(http_status: int, body: bytes, *, method: str, path: str) -> Envelope:
    """The envelope of a 2xx answer. An empty body (204) is an empty envelope; an error status inside is raised."""
    if not body.strip():
        return Envelope(status=http_status, data=None)
    try:
        parsed = json.loads(body)
    except ValueError:
        raise ServerError(
            "Assignar answered with something that is not JSON", method=method, path=path, status=http_status
        ) from None
    if not isinstance(parsed, dict):
        raise ServerError("Assignar answered without its envelope", method=method, path=path, status=http_status)
    status = parsed.get("status", http_status)
    if not isinstance(status, int):
        status = http_status
    if status >= 400:
        # Some Assignar endpoints report failures inside a 200 envelope.
        raise error_for_response(status, body, method=method, path=path)
    count = parsed.get("count")
    return Envelope(status=status, data=parsed.get("data"), count=count if isinstance(count, int) else None)
