"""Pure rules for accounts: where a login may send you next. No Flask, no database."""

from __future__ import annotations

import unicodedata
from urllib.parse import unquote, urlsplit


def safe_next_path(target: str | None) -> str | None:
    """`target` if it is a same-site relative path, else None.

    Browsers forgive a lot in a Location header: they drop tabs and newlines,
    read a backslash as a slash and `//host` or `/\\host` as another site, and
    `http:/host` as a scheme. So anything with a control character, whitespace
    or a backslash is refused outright (in the value as given and once
    percent-decoded), and what is left must parse (urllib.parse.urlsplit) with
    no scheme and no host, as a path starting with one "/" only.
    """
    if not target or len(target) > 2000:
        return None
    for form in (target, unquote(target)):
        if any(unicodedata.category(ch)[0] in "CZ" or ch == "\\" for ch in form):
            return None  # control, format, separator (space) characters, backslashes
        parts = urlsplit(form)  # note: "///x" parses with an empty host, so "//" is checked on the text too
        if form.startswith("//") or parts.scheme or parts.netloc or not parts.path.startswith("/") or parts.path.startswith("//"):
            return None
    return target
