"""A local stand-in for an API Gateway HTTP API: each request on a loopback port becomes a payload-format-2.0
event for a Lambda handler, and the handler's answer becomes the HTTP response.

It lets the Assignar emulator deliver real signed webhooks over HTTP to the real receiver handler (tests, the
demo). Like API Gateway it lower-cases header names, base64-encodes bodies that are not text, and answers 500
when the handler raises or returns something that is not a response.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from .http import EmulatorHandler, LoopbackServer

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]

_TEXT_TYPES = ("application/json", "text/", "application/xml", "application/x-www-form-urlencoded")


@dataclass
class LocalContext:
    """The parts of a Lambda context the handlers (and Powertools) read."""

    function_name: str
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:local"
    aws_request_id: str = ""
    timeout_s: float = 30.0

    def get_remaining_time_in_millis(self) -> int:
        return int(self.timeout_s * 1000)


def http_api_event(method: str, path: str, headers: dict[str, str], body: bytes, route_key: str) -> dict[str, Any]:
    content_type = headers.get("content-type", "")
    is_text = any(content_type.startswith(kind) for kind in _TEXT_TYPES)
    try:
        text = body.decode() if is_text else None
    except UnicodeDecodeError:
        text = None
    now = time.time()
    query = path.split("?", 1)[1] if "?" in path else ""
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": path.split("?", 1)[0],
        "rawQueryString": query,
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": "127.0.0.1",
            "http": {"method": method, "path": path.split("?", 1)[0], "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1"},
            "requestId": uuid.uuid4().hex,
            "routeKey": route_key,
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "body": text if text is not None else base64.b64encode(body).decode(),
        "isBase64Encoded": text is None,
    }
    if query:
        # As API Gateway does: decoded, a repeated parameter's values joined with commas, absent when there are none.
        parameters = parse_qs(query, keep_blank_values=True)
        event["queryStringParameters"] = {name: ",".join(values) for name, values in parameters.items()}
    return event


class _Handler(EmulatorHandler):
    server: LocalHttpApi

    def do_POST(self) -> None:
        api = self.server
        body = self.read_body()
        headers = {name.lower(): value for name, value in self.headers.items()}
        route = f"POST {self.path.split('?', 1)[0]}"
        if route != api.route_key:
            self.reply(404, b'{"message":"Not Found"}', "application/json")
            return
        event = http_api_event("POST", self.path, headers, body, api.route_key)
        try:
            answer = api.handler(event, LocalContext(api.function_name, aws_request_id=uuid.uuid4().hex))
            status = int(answer["statusCode"])
            payload = str(answer.get("body", "")).encode()
            content_type = dict(answer.get("headers") or {}).get("Content-Type", "application/json")
        except Exception:
            # API Gateway's answer to a failed integration; the handler's own log says why.
            status, payload, content_type = 500, b'{"message":"Internal Server Error"}', "application/json"
        api.answers.append(status)
        self.reply(status, payload, content_type)


class LocalHttpApi(LoopbackServer):
    """`POST {path}` on 127.0.0.1 routed to `handler`, e.g. the webhook receiver."""

    def __init__(self, handler: Handler, *, path: str, function_name: str = "webhook-receiver", port: int = 0) -> None:
        super().__init__(_Handler, port=port)
        self.handler = handler
        self.route_key = f"POST {path}"
        self.path = path
        self.function_name = function_name
        self.answers: list[int] = []

    @property
    def endpoint(self) -> str:
        return self.url + self.path

    def __repr__(self) -> str:
        return f"LocalHttpApi({json.dumps(self.route_key)} at {self.url})"
