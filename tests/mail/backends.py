"""The test suite's mail backend: Flask-Mailman's locmem outbox, which fails the
test if it is ever called while a request is being handled (no request may open
a connection to the mail server: a hung server would hang the request).

Every test app uses it (tests/conftest.py, make_app). `pytest.fail` raises an
exception that `except Exception` cannot swallow, so the request itself fails.
`on_send` holds callbacks a test may add (with monkeypatch) to look at the
database at the very moment an email is handed over.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import has_request_context
from flask_mailman.backends import locmem

PATH = "tests.mail.backends.EmailBackend"

on_send: list[Callable[[list], None]] = []


class EmailBackend(locmem.EmailBackend):
    def open(self):
        if has_request_context():
            pytest.fail("a request opened a connection to the mail server")
        return super().open()

    def send_messages(self, messages):
        if has_request_context():
            pytest.fail("an email was sent inside a request; emails go through the outbox")
        for callback in on_send:
            callback(list(messages))
        return super().send_messages(messages)
