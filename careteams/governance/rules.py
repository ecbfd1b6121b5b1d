"""Pure governance rules: the tally, the quorum, the electorate hash. No Flask, no database.

Every figure is an exact `fractions.Fraction`; percentages are rounded for
display only, never for deciding anything.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from fractions import Fraction
from typing import NamedTuple
from zoneinfo import ZoneInfo

from careteams.governance.enums import ResolutionKind, Threshold

INVESTOR = "investor"
MEMBER_CLASSES = ("supported", "worker", "advocate", "investor")
# A published group with fewer members (or ballots) than this can have its figures read
# as its members' votes. One number everywhere: the warnings before voting opens, the
# ballot page and the results page.
SMALL_CLASS = 5
NON_INVESTOR = "non-investor"
ALL = "all"
FOR = "for"
AGAINST = "against"


def capped(kind: ResolutionKind) -> bool:
    """Whether the investor cap applies to this kind (the Act's special resolutions: no)."""
    return kind != ResolutionKind.special


def eligible_classes(kind: ResolutionKind, conversion: bool) -> frozenset[str]:
    """Member classes entitled to vote: all, except investors on a conversion."""
    if kind == ResolutionKind.special and conversion:
        return frozenset(c for c in MEMBER_CLASSES if c != INVESTOR)
    return frozenset(MEMBER_CLASSES)


def fixed_options(kind: ResolutionKind) -> list[tuple[str, str]] | None:
    """(key, label) of the options a kind always has; None for a poll (the secretary's)."""
    if kind == ResolutionKind.poll:
        return None
    return [(FOR, "For"), (AGAINST, "Against")]


# --- the electorate -------------------------------------------------------------


def electorate_lines(voters: Iterable[tuple[int, str]]) -> list[str]:
    """The canonical form: `membership_id,member_class` per voter, sorted bytewise."""
    return sorted(f"{membership_id},{member_class}" for membership_id, member_class in voters)


def electorate_hash(voters: Iterable[tuple[int, str]]) -> str:
    """SHA-256 (hex) of the canonical electorate: sorted lines, each newline-terminated.

    Anyone can recompute it: `sort` (LC_ALL=C) the published lines, end each with
    a newline, `sha256sum`.
    """
    text = "".join(line + "\n" for line in electorate_lines(voters))
    return hashlib.sha256(text.encode("ascii")).hexdigest()


# --- the quorum -----------------------------------------------------------------


@dataclass(frozen=True)
class Quorum:
    heads: int  # distinct members who cast any ballot (abstentions and proxies included)
    electorate: int
    min_members: int
    percent: int
    required: int  # heads needed: the larger of the two tests
    quorate: bool


def quorum(heads: int, electorate: int, min_members: int, percent: int) -> Quorum:
    """Quorum counts heads, never weight: at least `min_members` and `percent`% of the electorate."""
    # Smallest whole number of heads h with h * 100 >= percent * electorate.
    by_percent = -(-percent * electorate // 100)
    required = max(min_members, by_percent)
    return Quorum(heads, electorate, min_members, percent, required, heads >= required)


# --- the tally ------------------------------------------------------------------


class Ballot(NamedTuple):
    """One ballot as the tally sees it: the option chosen (None = abstain) and its class.

    A named tuple, so a count of 100,000 is one `Counter(ballots)` at C speed."""

    option: str | None
    member_class: str


@dataclass(frozen=True)
class Tally:
    kind: ResolutionKind
    options: tuple[str, ...]
    # counts[member_class][option or "abstain"] -> ballots
    counts: dict[str, dict[str, int]]
    ballots_by_class: dict[str, int]
    non_investor_ballots: int  # N: non-investor ballots for an option
    investor_ballots: int  # I: investor ballots for an option
    investor_weight: Fraction  # each investor ballot's weight (1 where no cap applies)
    totals: dict[str, Fraction]
    quorum: Quorum
    carried: bool | None  # for/against kinds; None for a poll
    winners: tuple[str, ...]  # a poll's leader(s); several means a tie
    tie: bool
    warnings: tuple[str, ...] = field(default=())

    @property
    def counted(self) -> Fraction:
        return sum(self.totals.values(), Fraction(0))

    def investor_share(self) -> Fraction:
        """Investors' share of the weighted votes counted (0 when nothing counts)."""
        counted = self.counted
        if counted == 0:
            return Fraction(0)
        return self.investor_weight * self.investor_ballots / counted

    def percent(self, option: str) -> str:
        """An option's share of the counted votes, rounded to one place (display only)."""
        counted = self.counted
        if counted == 0:
            return "0.0%"
        return f"{round(float(self.totals[option] * 100 / counted), 1):.1f}%"


def investor_weight(non_investor: int, investor: int, cap: Fraction) -> Fraction:
    """Each investor ballot's weight: W / I with W = min(I, N * c / (1 - c)); 0 when I = 0."""
    if not 0 <= cap < 1:
        raise ValueError("the investor cap must be at least 0 and below 1")
    if investor == 0:
        return Fraction(0)
    together = min(Fraction(investor), Fraction(non_investor) * cap / (1 - cap))
    return together / investor


def tally(
    kind: ResolutionKind,
    options: Sequence[str],
    ballots: Iterable[Ballot],
    *,
    cap: Fraction = Fraction(1, 10),
    threshold: Threshold = Threshold.at_least,
    electorate: int,
    quorum_min_members: int,
    quorum_percent: int,
    heads: int | None = None,
) -> Tally:
    """Count the ballots of one resolution, exactly.

    `heads` is the number of distinct members who voted (one ballot each, so it
    defaults to the number of ballots).
    """
    options = tuple(options)
    known = set(options)
    # One pass over the ballots (a count may have 100,000): how many per (class, choice);
    # everything below works on those few numbers.
    pairs: Counter[Ballot] = Counter(ballots)  # (option, member_class) pairs
    counts: dict[str, Counter] = {}
    per_option_investor: Counter = Counter()
    per_option_other: Counter = Counter()
    for (option, member_class), number in sorted(pairs.items(), key=lambda kv: (kv[0][1], kv[0][0] or "")):
        if option is not None and option not in known:
            raise ValueError(f"a ballot for an unknown option {option!r}")
        counts.setdefault(member_class, Counter())[option or "abstain"] += number
        if option is not None:
            (per_option_investor if member_class == INVESTOR else per_option_other)[option] += number
    n = sum(per_option_other.values())
    i = sum(per_option_investor.values())
    weight = investor_weight(n, i, cap) if capped(kind) else Fraction(1)
    totals = {o: Fraction(per_option_other[o]) + weight * per_option_investor[o] for o in options}

    q = quorum(pairs.total() if heads is None else heads, electorate, quorum_min_members, quorum_percent)
    carried: bool | None = None
    winners: tuple[str, ...] = ()
    tie = False
    if kind == ResolutionKind.poll:
        best = max(totals.values(), default=Fraction(0))
        if q.quorate and best > 0:
            winners = tuple(o for o in options if totals[o] == best)
            tie = len(winners) > 1
    else:
        carried = q.quorate and _passes(kind, totals[FOR], totals[AGAINST], threshold)

    ballots_by_class = {c: sum(counts[c].values()) for c in sorted(counts)}
    warnings = tuple(
        f"Only {count} {group} ballot{'s' if count != 1 else ''} {'were' if count != 1 else 'was'} cast: "
        f"the published {group} figures may show how those members voted."
        for group, count in group_sizes(ballots_by_class, kind).items() if 0 < count < SMALL_CLASS
    )
    return Tally(
        kind=kind, options=options,
        counts={c: dict(counts[c]) for c in sorted(counts)}, ballots_by_class=ballots_by_class,
        non_investor_ballots=n, investor_ballots=i, investor_weight=weight, totals=totals,
        quorum=q, carried=carried, winners=winners, tie=tie, warnings=warnings,
    )


# --- what the published counts reveal -------------------------------------------


def published_groups(kind: ResolutionKind) -> tuple[str, ...]:
    """The groups whose counts are published: the investor cap needs investors apart from
    everyone else; a tally without the cap needs no split at all."""
    return (INVESTOR, NON_INVESTOR) if capped(kind) else (ALL,)


def group_of(member_class: str, kind: ResolutionKind) -> str:
    if not capped(kind):
        return ALL
    return INVESTOR if member_class == INVESTOR else NON_INVESTOR


def group_sizes(by_class: dict[str, int], kind: ResolutionKind) -> dict[str, int]:
    """Members (or ballots) per published group, from figures per class."""
    sizes = dict.fromkeys(published_groups(kind), 0)
    for member_class, n in by_class.items():
        sizes[group_of(member_class, kind)] += n
    return sizes


def group_counts(counts: dict[str, dict[str, int]], kind: ResolutionKind) -> dict[str, dict[str, int]]:
    """Ballots per published group and option (or "abstain"), plus "all" where there is a split."""
    grouped: dict[str, Counter] = {g: Counter() for g in published_groups(kind)}
    for member_class, by_option in counts.items():
        grouped[group_of(member_class, kind)].update(by_option)
    if ALL not in grouped:
        grouped[ALL] = sum(grouped.values(), Counter())
    return {g: dict(c) for g, c in grouped.items()}


def small_groups(by_class: dict[str, int], kind: ResolutionKind) -> dict[str, int]:
    """Published groups with some but fewer than SMALL_CLASS members: their figures can be
    read as their members' votes (and any group that votes one way shows that way)."""
    return {g: n for g, n in group_sizes(by_class, kind).items() if 0 < n < SMALL_CLASS}


def local_time(value: datetime, zone: str) -> str:
    """A UTC time in the co-op's zone, e.g. "Sun 29 Mar 2026, 02:30 BST"."""
    local = value.astimezone(ZoneInfo(zone))
    return local.strftime("%a ") + str(local.day) + local.strftime(" %b %Y, %H:%M %Z")


def _passes(kind: ResolutionKind, for_: Fraction, against: Fraction, threshold: Threshold) -> bool:
    counted = for_ + against
    if counted == 0:
        return False  # nothing counted: nothing carried
    if kind == ResolutionKind.ordinary:
        return for_ > counted / 2
    required = Fraction(3, 4) * counted
    if kind == ResolutionKind.extraordinary and threshold == Threshold.more_than:
        return for_ > required
    return for_ >= required


# --- proxies --------------------------------------------------------------------


def proxy_limit_reached(held: int, limit: int) -> bool:
    """A holder holds at most `limit` proxies for one resolution."""
    return held >= limit


def fraction_str(value: Fraction) -> str:
    """A fraction as stored and published: "460/9", or "60" when whole."""
    return str(value)


# --- settings -------------------------------------------------------------------


def settings_errors(settings: dict) -> dict[str, list[str]]:
    """Cross-field checks on a resolution's settings (after merging any changes)."""
    errors: dict[str, list[str]] = {}
    kind = settings["kind"]
    options = settings.get("options") or []
    if settings["closes_at"] <= settings["opens_at"]:
        errors["closes_at"] = ["Voting must close after it opens."]
    if kind == ResolutionKind.poll:
        labels = [o.strip() for o in options]
        if len(labels) < 2:
            errors["options"] = ["A poll needs at least two options."]
        elif len({o.casefold() for o in labels}) != len(labels):
            errors["options"] = ["Each option must be different."]
    elif options:
        errors["options"] = ["Only a poll has its own options; a resolution is voted For or Against."]
    if settings.get("conversion") and kind != ResolutionKind.special:
        errors["conversion"] = ["Only a special resolution can be a conversion."]
    if settings.get("threshold", Threshold.at_least) == Threshold.more_than and kind != ResolutionKind.extraordinary:
        errors["threshold"] = ['"More than three quarters" applies to extraordinary resolutions only.']
    return errors


def local_to_utc(value: str, zone: str):
    """A `datetime-local` form value in the co-op's zone, as an aware UTC datetime.

    Raises ValueError for a time that does not exist (clocks going forward) or
    happens twice (clocks going back): a vote must not open or close by accident
    an hour out.
    """
    try:
        naive = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise ValueError("Enter a date and time, for example 2026-05-01 18:00.") from None
    if naive.tzinfo is not None:
        raise ValueError("Enter a local date and time without a time zone.")
    tz = ZoneInfo(zone)
    first, second = naive.replace(tzinfo=tz, fold=0), naive.replace(tzinfo=tz, fold=1)
    if first.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != naive:
        raise ValueError("That time does not exist when the clocks go forward; choose another.")
    if first.utcoffset() != second.utcoffset():
        raise ValueError("That time happens twice when the clocks go back; choose another.")
    return first.astimezone(UTC)
