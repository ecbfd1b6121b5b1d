"""The governance domain's enums: resolution kinds, thresholds, resolution and proxy
states, and the kinds' labels. No Flask, no database."""

from __future__ import annotations

import enum


class ResolutionKind(enum.StrEnum):
    ordinary = "ordinary"
    extraordinary = "extraordinary"
    special = "special"  # a special resolution under the Act: one member, one vote
    poll = "poll"


class Threshold(enum.StrEnum):
    at_least = "at_least"
    more_than = "more_than"


KIND_LABELS = {
    ResolutionKind.ordinary: "Ordinary resolution (more than half)",
    ResolutionKind.extraordinary: "Extraordinary resolution (three quarters)",
    ResolutionKind.special: "Special resolution under the Act (three quarters, one member one vote)",
    ResolutionKind.poll: "Poll (several options, the most support wins)",
}


class ResolutionStatus(enum.StrEnum):
    draft = "draft"
    scheduled = "scheduled"  # the secretary has asked for it to open at opens_at
    open = "open"
    counting = "counting"  # closed, waiting for the tellers to give their shares
    closed = "closed"


class ProxyStatus(enum.StrEnum):
    active = "active"
    used = "used"  # the proxy voted: that ballot stands
    cancelled = "cancelled"  # the appointer voted in person or took it back
