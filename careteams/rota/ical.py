"""iCalendar (RFC 5545) text for calendar feeds: UTC times (no VTIMEZONE needed), no
health details: a summary says whose team or who is booked, never the kind of care."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _fold(line: str) -> list[str]:
    # Lines longer than 75 octets are folded with CRLF + space.
    out, raw = [], line.encode()
    while len(raw) > 75:
        cut = 75 if not out else 74
        while (raw[cut] & 0xC0) == 0x80:  # never split a UTF-8 character
            cut -= 1
        out.append(raw[:cut].decode())
        raw = raw[cut:]
    out.append(raw.decode())
    return [out[0], *[" " + part for part in out[1:]]]


def _utc(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def calendar(name: str, events: Iterable[dict], host: str = "careteams", now: datetime | None = None) -> str:
    """events: dicts with uid, start, end (aware), summary, status ('CONFIRMED'/'TENTATIVE')."""
    stamp = _utc(now or datetime.now(UTC))
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//careteams//rota//EN", "CALSCALE:GREGORIAN",
             f"X-WR-CALNAME:{_escape(name)}"]
    for e in events:
        lines += ["BEGIN:VEVENT", f"UID:{e['uid']}@{host}", f"DTSTAMP:{stamp}", f"DTSTART:{_utc(e['start'])}",
                  f"DTEND:{_utc(e['end'])}", f"SUMMARY:{_escape(e['summary'])}", f"STATUS:{e.get('status', 'CONFIRMED')}",
                  "END:VEVENT"]
    lines.append("END:VCALENDAR")
    return "".join(part + "\r\n" for line in lines for part in _fold(line))
