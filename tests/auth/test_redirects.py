"""Issue 14, "Open redirect": after logging in, `next` may only lead somewhere on this site."""

from __future__ import annotations

import pytest

from careteams.auth.rules import safe_next_path
from tests.factories import PASSWORD, PersonFactory
from tests.helpers import csrf_from

# Raw query-string values (as a browser or attacker would send them), each a
# known way to turn a "relative" redirect into another site or a script.
BYPASSES = [
    "//evil.example/",
    "/%09/evil.example/",          # the finding: tab dropped by browsers -> //evil
    "/%0a/evil.example/",          # newline
    "/%0d/evil.example/",          # carriage return
    "/%00/evil.example/",          # NUL
    "/%5C/evil.example/",          # /\evil: browsers read \ as /
    "/%5Cevil.example/",
    "%5C/evil.example/",           # \/evil
    "%5C%5Cevil.example",          # \\evil
    "https://evil.example/",
    "http:/evil.example/",         # scheme with one slash
    "http:evil.example",
    "javascript:alert(1)",
    "JaVaScRiPt%3Aalert(1)",
    "data:text/html,hi",
    "/%2F%2Fevil.example/",        # encoded //
    "/%252F%252Fevil.example/",    # doubly encoded, decoded once by the framework
    "%2F%2Fevil.example",
    "///evil.example/",
    "////evil.example/",
    "%20//evil.example/",          # whitespace prefixes
    "%09//evil.example/",
    "%0A//evil.example/",
    "%E3%80%80//evil.example/",    # ideographic space
    "/%E2%80%AE/evil.example/",    # right-to-left override (format character)
    "evil.example",                # not a path at all
    "@evil.example",
    "//%09evil.example",
    "/%5C%5Cevil.example",
]


def _login_with_next(client, raw_next: str):
    person = PersonFactory()
    token = csrf_from(client.get("/login").get_data(as_text=True))
    return client.post(f"/login?next={raw_next}", data={"email": person.email, "password": PASSWORD, "csrf_token": token})


@pytest.mark.parametrize("raw_next", BYPASSES)
def test_login_never_redirects_off_site(client, raw_next):
    response = _login_with_next(client, raw_next)
    # Either home, or (a NUL, refused by the shared input layer) not logged in at all.
    assert (response.status_code, response.headers.get("Location")) in {(302, "/"), (422, None)}


@pytest.mark.parametrize(
    ("raw_next", "location"),
    [
        ("/teams/1/rota%3Fweek%3D2026-12-07", "/teams/1/rota?week=2026-12-07"),
        ("/teams/1/rota?week=2026-12-07", "/teams/1/rota?week=2026-12-07"),  # & ? not encoded: still fine
        ("/hours", "/hours"),
        ("/teams/1%23rota", "/teams/1#rota"),
    ],
)
def test_login_follows_a_same_site_next(client, raw_next, location):
    response = _login_with_next(client, raw_next)
    assert response.status_code == 302
    assert response.headers["Location"] == location


@pytest.mark.parametrize("value", ["/a/b", "/teams/1/rota?week=2026-12-07", "/x?next=%2Fy"])
def test_safe_next_path_keeps_plain_paths(value):
    assert safe_next_path(value) == value


@pytest.mark.parametrize("value", [None, "", "//x", "/\\x", "\\/x", "/\t/x", " /x", "http:/x", "javascript:x", "/%2F%2Fx", "///x", "/x\n"])
def test_safe_next_path_refuses_other_sites(value):
    assert safe_next_path(value) is None
