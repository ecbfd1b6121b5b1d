"""One interface for sending texts; the only code that may talk to Twilio.

Backends, chosen by the SMS_BACKEND setting:
- console: prints the text (development and the demo);
- memory: keeps texts in a list on the app (tests);
- twilio: the `twilio` package's REST client.

Only the outbox sender (careteams.sms.jobs) calls `send`; everything else writes
outbound_message rows through `careteams.sms.services.enqueue`.

`send` returns a `SentText` when the provider accepted the message, or raises
`GatewayError` whose `outcome` says whether a retry is safe (`retry`), whether the
message may have gone (`unknown`), or whether it was refused for good (`failed`).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field

from flask import current_app

from careteams.sms.rules import OPTED_OUT_ERROR, SendOutcome, outcome_for_http_error

log = logging.getLogger(__name__)


@dataclass
class SentText:
    to: str
    body: str
    from_number: str | None
    sid: str
    status: str = "queued"


class GatewayError(Exception):
    def __init__(self, outcome: SendOutcome, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.outcome = outcome
        self.message = message
        self.code = code

    @property
    def opted_out(self) -> bool:
        return self.code == str(OPTED_OUT_ERROR)


def local_sid(prefix: str) -> str:
    """A message id for a text that never reached Twilio, unique across processes and
    restarts (the outbox's `sid` is unique): a counter from 1 per process would repeat
    the ids of the last `sms simulate` or demo run and break the send."""
    return f"{prefix}{uuid.uuid4().hex}"[:34]


class ConsoleGateway:
    def __init__(self) -> None:
        self.count = 0

    def send(self, *, to: str, body: str, from_number: str | None = None,
             status_callback: str | None = None) -> SentText:
        self.count += 1
        sid = local_sid("SMCONSOLE")
        print(f"\n--- SMS from {from_number or 'careteams'} to {to} ---\n{body}\n---", flush=True)
        return SentText(to, body, from_number, sid)


@dataclass
class MemoryGateway:
    sent: list[SentText] = field(default_factory=list)

    def send(self, *, to: str, body: str, from_number: str | None = None,
             status_callback: str | None = None) -> SentText:
        text = SentText(to, body, from_number, local_sid("SMMEMORY"))
        self.sent.append(text)
        return text


class TwilioGateway:
    def __init__(self, account_sid: str, auth_token: str, default_from: str | None, http_client=None) -> None:
        from twilio.rest import Client  # heavy: twilio.rest, only for a real Twilio gateway

        self.client = Client(account_sid, auth_token, http_client=http_client)
        self.default_from = default_from

    def send(self, *, to: str, body: str, from_number: str | None = None,
             status_callback: str | None = None) -> SentText:
        sender = from_number or self.default_from
        kwargs = {"to": to, "from_": sender, "body": body}
        if status_callback:
            kwargs["status_callback"] = status_callback
        try:
            message = self.client.messages.create(**kwargs)
        except Exception as exc:
            raise classify(exc) from exc
        return SentText(to, body, sender, message.sid, message.status or "queued")


def classify(exc: Exception) -> GatewayError:
    """What a failed call to Twilio means for the message: retry, unknown or failed."""
    # heavy: requests and twilio's exceptions, only after a real Twilio call failed
    import requests
    from twilio.base.exceptions import TwilioRestException

    if isinstance(exc, TwilioRestException):
        code = str(exc.code) if exc.code is not None else None
        return GatewayError(outcome_for_http_error(exc.status), (exc.msg or "")[:300], code or str(exc.status))
    # Before the request left us: nothing can have reached Twilio.
    if isinstance(exc, requests.exceptions.ConnectTimeout | requests.exceptions.SSLError | ConnectionRefusedError):
        return GatewayError(SendOutcome.retry, f"could not connect: {type(exc).__name__}")
    if isinstance(exc, requests.exceptions.ConnectionError) and _never_connected(exc):
        return GatewayError(SendOutcome.retry, "could not connect: connection refused")
    # A read timeout or a dropped connection: Twilio may have accepted it.
    if isinstance(exc, requests.exceptions.Timeout | requests.exceptions.ConnectionError | TimeoutError):
        return GatewayError(SendOutcome.unknown, f"no answer from Twilio: {type(exc).__name__}")
    return GatewayError(SendOutcome.unknown, f"unexpected error: {type(exc).__name__}")


def _never_connected(exc: Exception) -> bool:
    # heavy: urllib3, only after a real Twilio call failed
    from urllib3.exceptions import NewConnectionError

    seen: set[int] = set()
    stack: list[BaseException | None] = [exc]
    while stack:
        current = stack.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, NewConnectionError | ConnectionRefusedError):
            return True
        stack.extend([getattr(current, "reason", None), current.__cause__, current.__context__,
                      *[a for a in getattr(current, "args", ()) if isinstance(a, BaseException)]])
    return False


def get_gateway():
    """The app's gateway, built once per app from its settings."""
    gateway = current_app.extensions.get("careteams.sms_gateway")
    if gateway is None:
        backend = current_app.config["SMS_BACKEND"]
        if backend == "console":
            gateway = ConsoleGateway()
        elif backend == "memory":
            gateway = MemoryGateway()
        elif backend == "twilio":
            gateway = TwilioGateway(
                current_app.config["TWILIO_ACCOUNT_SID"],
                current_app.config["TWILIO_AUTH_TOKEN"],
                current_app.config["TWILIO_FROM_NUMBER"],
            )
        else:
            raise RuntimeError(f"unknown SMS_BACKEND {backend!r}")
        current_app.extensions["careteams.sms_gateway"] = gateway
    return gateway


def set_gateway(app, gateway) -> None:
    """Use `gateway` for this app (tests: a Twilio client over a fake transport)."""
    app.extensions["careteams.sms_gateway"] = gateway
