"""Small helpers shared by tests."""

from __future__ import annotations

import re

import sqlalchemy as sa

from careteams.extensions import db

_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


def csrf_from(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1) or match.group(2)


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def login(client, email: str, password: str):
    page = client.get("/login")
    token = csrf_from(page.get_data(as_text=True))
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token})


class QueryCounter:
    """Counts SQL statements sent through the engine while active."""

    def __init__(self, connection_or_engine):
        self.target = connection_or_engine
        self.statements: list[str] = []

    def _before(self, conn, cursor, statement, parameters, context, executemany):
        self.statements.append(statement)

    def __enter__(self):
        sa.event.listen(self.target, "before_cursor_execute", self._before)
        return self

    def __exit__(self, *exc):
        sa.event.remove(self.target, "before_cursor_execute", self._before)

    @property
    def count(self) -> int:
        return len(self.statements)
