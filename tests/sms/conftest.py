"""Helpers for the SMS tests: the real twilio Client over a fake HTTP transport,
requests signed with twilio's own RequestValidator, and a clean command registry."""

from __future__ import annotations

import json
import logging
import threading

import pytest
import requests
from twilio.http import HttpClient
from twilio.http.response import Response
from twilio.request_validator import RequestValidator
from urllib3.exceptions import MaxRetryError, NewConnectionError

from careteams.sms.gateway import TwilioGateway

TOKEN = "test-auth-token"  # config.Testing.TWILIO_AUTH_TOKEN
ACCOUNT = "AC" + "0" * 32


class FakeTwilioHttp(HttpClient):
    """A twilio.http.HttpClient that answers from a script instead of the network."""

    def __init__(self, script=None, default=None):
        super().__init__(logging.getLogger("fake-twilio"), is_async=False, timeout=None)
        self.script = list(script or [])
        self.default = default
        self.requests: list[dict] = []
        self.lock = threading.Lock()

    def request(self, method, uri, params=None, data=None, headers=None, auth=None, timeout=None,
                allow_redirects=False):
        with self.lock:
            self.requests.append({"method": method, "uri": uri, "data": dict(data or {})})
            item = self.script.pop(0) if self.script else self.default
        if callable(item):
            item = item(data)
        if isinstance(item, BaseException):
            raise item
        return item


_counter = iter(range(1, 10**9))


def accepted(data=None) -> Response:
    """Twilio's 201 for a created message."""
    sid = f"SM{next(_counter):032d}"
    payload = {"sid": sid, "account_sid": ACCOUNT, "status": "queued",
               "to": (data or {}).get("To"), "from": (data or {}).get("From"), "body": (data or {}).get("Body")}
    return Response(201, json.dumps(payload))


def twilio_error(status: int, code: int, message: str) -> Response:
    return Response(status, json.dumps({"code": code, "message": message, "status": status,
                                        "more_info": f"https://www.twilio.com/docs/errors/{code}"}))


def connection_refused() -> requests.exceptions.ConnectionError:
    reason = NewConnectionError(None, "Failed to establish a new connection: [Errno 111] Connection refused")
    return requests.exceptions.ConnectionError(MaxRetryError(None, "/2010-04-01/Accounts/x/Messages.json", reason))


def read_timeout() -> requests.exceptions.ReadTimeout:
    return requests.exceptions.ReadTimeout("HTTPSConnectionPool(host='api.twilio.com', port=443): Read timed out.")


@pytest.fixture
def twilio_http(app):
    """Installs a TwilioGateway (the real twilio Client) over a fake transport."""
    from careteams.sms.gateway import set_gateway

    http = FakeTwilioHttp(default=accepted)
    set_gateway(app, TwilioGateway(ACCOUNT, TOKEN, "+447700900000", http_client=http))
    return http


def sign(url: str, params: dict, token: str = TOKEN) -> str:
    return RequestValidator(token).compute_signature(url, params)


def post_signed(client, path: str, params: dict, *, url: str | None = None, token: str = TOKEN, **kwargs):
    """POST as Twilio would: form-encoded, signed over the public URL and the params."""
    signature = sign(url or f"http://localhost{path}", params, token)
    headers = {"X-Twilio-Signature": signature, **kwargs.pop("headers", {})}
    return client.post(path, data=params, headers=headers, **kwargs)


@pytest.fixture
def handlers():
    """An empty command registry for stand-in handlers (the real ones, e.g. the
    rota's, are loaded first so they cannot come back mid-test); restored after."""
    from careteams.sms.commands import HANDLERS, load_handlers

    load_handlers()
    saved = dict(HANDLERS)
    HANDLERS.clear()
    yield HANDLERS
    HANDLERS.clear()
    HANDLERS.update(saved)
