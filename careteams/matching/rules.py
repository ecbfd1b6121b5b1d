"""Pure matching logic: the consent state machine, distances, availability
overlap, the explainable score and the fairness report's suppression.

No Flask and no database here; services feed these plain values.
"""

from __future__ import annotations

import math
import re
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from functools import lru_cache

from careteams.matching.enums import CheckKind, MatchState, Side

# --- the consent state machine ---------------------------------------------------


class Action(StrEnum):
    answer_yes = "answer_yes"
    answer_no = "answer_no"
    approve = "approve"  # facilitator review passed
    hold = "hold"  # facilitator pauses the match, with a note
    decline = "decline"  # facilitator review: the match does not go ahead
    release = "release"  # facilitator lifts a hold
    record_introduction = "record_introduction"
    start_trial = "start_trial"
    record_shift = "record_shift"
    confirm = "confirm"
    withdraw = "withdraw"


class IllegalTransition(Exception):
    """The action is not possible in the match's present state (HTTP 409)."""


OPEN_STATES = frozenset({MatchState.invited, MatchState.asked, MatchState.review,
                         MatchState.introduction, MatchState.trial})
CLOSED_STATES = frozenset({MatchState.declined, MatchState.withdrawn, MatchState.active})
# States where both sides have said yes: each may now see more of the other.
MUTUAL_STATES = frozenset({MatchState.review, MatchState.introduction, MatchState.trial, MatchState.active})
# The actions that move a match forward; a facilitator's hold stops them (withdrawal never).
PROGRESS_ACTIONS = frozenset({Action.answer_yes, Action.answer_no, Action.approve,
                              Action.start_trial, Action.confirm})
PARTIES = (Side.team, Side.worker)
REVIEW_AFTER_SHIFTS = (3, 8)

# Where a match stands, in the words every page (and the API's `state_words`) uses.
MATCH_STATE_WORDS: dict[MatchState, str] = {
    MatchState.invited: "invited: waiting for the worker's answer",
    MatchState.asked: "asked to join: waiting for the team's answer",
    MatchState.declined: "declined",
    MatchState.review: "waiting for review",
    MatchState.introduction: "introduction arranged",
    MatchState.trial: "on trial in the team",
    MatchState.active: "joined the team",
    MatchState.withdrawn: "withdrawn",
}


def match_state_words(state: MatchState | str) -> str:
    """A match state in plain words (an unknown value is shown as it is, never a 500)."""
    try:
        return MATCH_STATE_WORDS[MatchState(state)]
    except ValueError:
        return str(state)


@dataclass(frozen=True)
class MatchFacts:
    """What the state machine needs to know about a match."""

    state: MatchState
    started_by: Side
    held: bool = False
    review_required: bool = True
    introduction_recorded: bool = False
    shifts_recorded: int = 0
    team_confirmed: bool = False
    worker_confirmed: bool = False


def answering_side(started_by: Side) -> Side:
    """The side that answers is the one that did not start the match."""
    return Side.worker if started_by == Side.team else Side.team


def next_state(facts: MatchFacts, action: Action, side: Side) -> MatchState:
    """The state after `side` does `action`, or IllegalTransition with the reason."""
    state = facts.state
    if state in (MatchState.declined, MatchState.withdrawn):
        raise IllegalTransition(f"This match is {state.value}; nothing more can happen to it.")
    if facts.held and action in PROGRESS_ACTIONS:
        raise IllegalTransition("A facilitator is holding this match; it cannot move on until they release it.")

    if action == Action.withdraw:
        if side not in PARTIES:
            raise IllegalTransition("Only the team side or the worker can withdraw.")
        if state == MatchState.active:
            raise IllegalTransition("The worker has joined the team; end the membership in the team instead.")
        return MatchState.withdrawn

    if action in (Action.hold, Action.release):
        if side != Side.facilitator:
            raise IllegalTransition("Only a facilitator can hold or release a match.")
        if state not in OPEN_STATES:
            raise IllegalTransition("Only a match still in progress can be held.")
        if action == Action.hold and facts.held:
            raise IllegalTransition("This match is already held.")
        if action == Action.release and not facts.held:
            raise IllegalTransition("This match is not held.")
        return state

    if action in (Action.answer_yes, Action.answer_no):
        if state not in (MatchState.invited, MatchState.asked):
            raise IllegalTransition("This match has already been answered.")
        if side != answering_side(facts.started_by):
            raise IllegalTransition("The other side answers this match, not you.")
        if action == Action.answer_no:
            return MatchState.declined
        return MatchState.review if facts.review_required else MatchState.introduction

    if action == Action.decline:
        if side != Side.facilitator:
            raise IllegalTransition("Only a facilitator can decline a match after review.")
        if state != MatchState.review:
            raise IllegalTransition("Only a match waiting for review can be declined by a facilitator.")
        return MatchState.declined

    if action == Action.approve:
        if side != Side.facilitator:
            raise IllegalTransition("Only a facilitator can approve a match after review.")
        if state != MatchState.review:
            raise IllegalTransition("Only a match waiting for review can be approved.")
        return MatchState.introduction

    if action == Action.record_introduction:
        if state != MatchState.introduction:
            raise IllegalTransition("An introduction can be recorded only after mutual interest (and review).")
        return MatchState.introduction

    if action == Action.start_trial:
        if side not in PARTIES:
            raise IllegalTransition("Only the team side or the worker can start the trial.")
        if state != MatchState.introduction:
            raise IllegalTransition("A trial starts only after the introduction.")
        if not facts.introduction_recorded:
            raise IllegalTransition("Record the date of the introduction first.")
        return MatchState.trial

    if action == Action.record_shift:
        if side not in PARTIES:
            raise IllegalTransition("Only the team side or the worker can record a shift.")
        if state not in (MatchState.trial, MatchState.active):
            raise IllegalTransition("Shifts are recorded once the worker has joined the team.")
        return state

    if action == Action.confirm:
        if side not in PARTIES:
            raise IllegalTransition("Only the team side and the worker confirm after the trial.")
        if state != MatchState.trial:
            raise IllegalTransition("Confirming happens at the end of the trial.")
        if facts.shifts_recorded < 1:
            raise IllegalTransition("Record at least one trial shift before confirming.")
        mine, theirs = ((facts.team_confirmed, facts.worker_confirmed) if side == Side.team
                        else (facts.worker_confirmed, facts.team_confirmed))
        if mine:
            raise IllegalTransition("You have already confirmed.")
        return MatchState.active if theirs else MatchState.trial

    raise IllegalTransition(f"Unknown action {action}.")  # pragma: no cover


class CheckInAnswer(StrEnum):
    """What each side says at a check-in (after the 3rd and 8th shift)."""

    working = "working"
    not_sure = "not_sure"
    not_working = "not_working"


CHECK_IN_LABELS = {CheckInAnswer.working: "It is working", CheckInAnswer.not_sure: "Not sure yet",
                   CheckInAnswer.not_working: "It is not working"}


def review_prompts_due(shifts_before: int, shifts_after: int) -> list[int]:
    """Review points (after the 3rd and 8th shift) crossed by recording shifts."""
    return [n for n in REVIEW_AFTER_SHIFTS if shifts_before < n <= shifts_after]


# --- checks ------------------------------------------------------------------------

REQUIRED_KINDS = (CheckKind.enhanced_dbs, CheckKind.right_to_work)
CHECK_LABELS = {CheckKind.enhanced_dbs: "Enhanced DBS check", CheckKind.right_to_work: "Right to work",
                CheckKind.training: "Training"}


@dataclass(frozen=True)
class CheckFact:
    kind: CheckKind
    name: str
    checked_on: date
    expires_on: date | None


def check_valid(check: CheckFact, on: date) -> bool:
    return check.checked_on <= on and (check.expires_on is None or check.expires_on > on)


def check_problems(checks: Iterable[CheckFact], on: date, required_training: Iterable[str] = ()) -> list[str]:
    """Why a worker's checks do not allow them to be suggested or start a trial on `on`."""
    checks = list(checks)
    problems = []
    needed = [(kind, "") for kind in REQUIRED_KINDS] + [(CheckKind.training, n) for n in required_training]
    for kind, name in needed:
        relevant = [c for c in checks if c.kind == kind and (not name or c.name.casefold() == name.casefold())]
        label = name or CHECK_LABELS[kind]
        if not relevant:
            problems.append(f"{label}: missing")
        elif not any(check_valid(c, on) for c in relevant):
            latest = max((c.expires_on for c in relevant if c.expires_on), default=None)
            problems.append(f"{label}: expired on {latest.isoformat()}" if latest else f"{label}: not yet valid")
    return problems


# --- places ------------------------------------------------------------------------

EARTH_RADIUS_KM = 6371.0088
# The same sphere as haversine_km, so the box never cuts the circle.
KM_PER_DEGREE_LAT = math.pi * EARTH_RADIUS_KM / 180


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in kilometres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def km_per_degree_lon(lat: float) -> float:
    # Never zero: near the poles a degree of longitude is tiny but the box must stay finite.
    return max(KM_PER_DEGREE_LAT * math.cos(math.radians(lat)), 0.01)


def bounding_box(lat: float, lon: float, km: float) -> tuple[float, float, float, float]:
    """(min_lat, max_lat, min_lon, max_lon) around a point; a superset of the circle."""
    km *= 1.001  # a hair of margin against rounding at the edge
    dlat = km / KM_PER_DEGREE_LAT
    # Degrees of longitude shrink towards the poles: size the box at its pole-ward edge.
    dlon = km / km_per_degree_lon(min(abs(lat) + dlat, 89.9))
    return lat - dlat, lat + dlat, lon - dlon, lon + dlon


DISTANCE_BANDS = ((2, "under 2 km"), (5, "2 to 5 km"), (10, "5 to 10 km"), (20, "10 to 20 km"))


def distance_band(km: float) -> str:
    """A coarse distance, so nobody can work out where a worker lives."""
    for limit, label in DISTANCE_BANDS:
        if km < limit:
            return label
    return "20 km or more"


# --- weekly windows ------------------------------------------------------------------

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
Window = tuple[int, int, int]  # (weekday 0 = Monday, start minute, end minute)
_WINDOW_LINE = re.compile(r"^\s*([A-Za-z]+)\s+(\d{1,2}):(\d{2})\s*(?:-|to|–)\s*(\d{1,2}):(\d{2})\s*$")


def parse_windows(text: str) -> list[Window]:
    """Parse lines like "Monday 09:00-12:30" (or "Mon 9:00 to 12:30"); ValueError says which line."""
    windows = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        m = _WINDOW_LINE.match(line)
        if not m:
            raise ValueError(f"Line {number}: write a day and times, like 'Monday 09:00-12:30'.")
        day = m.group(1).casefold()
        matches = [i for i, name in enumerate(WEEKDAYS) if len(day) >= 3 and name.casefold().startswith(day)]
        if len(matches) != 1:
            raise ValueError(f"Line {number}: '{m.group(1)}' is not a day of the week.")
        start = int(m.group(2)) * 60 + int(m.group(3))
        end = int(m.group(4)) * 60 + int(m.group(5))
        if end == 0:
            end = 1440  # "22:00-00:00" runs to midnight
        if int(m.group(3)) > 59 or int(m.group(5)) > 59 or start >= 1440 or end > 1440 or start >= end:
            raise ValueError(f"Line {number}: the end must come after the start, on the same day.")
        windows.append((matches[0], start, end))
    return windows


def format_window(window: Window) -> str:
    day, start, end = window
    return f"{WEEKDAYS[day]} {start // 60:02d}:{start % 60:02d}-{end // 60:02d}:{end % 60:02d}"


def _merge(windows: Iterable[Window]) -> list[Window]:
    merged: list[list[int]] = []
    for day, start, end in sorted(windows):
        if merged and merged[-1][0] == day and start <= merged[-1][2]:
            merged[-1][2] = max(merged[-1][2], end)
        else:
            merged.append([day, start, end])
    return [(d, s, e) for d, s, e in merged]


def window_minutes(windows: Iterable[Window]) -> int:
    return sum(e - s for _, s, e in _merge(windows))


def overlap_minutes(a: Iterable[Window], b: Iterable[Window]) -> int:
    """Minutes a week both sets of windows cover (overlaps inside one set count once)."""
    total = 0
    merged_b = _merge(b)
    for day, start, end in _merge(a):
        for day_b, start_b, end_b in merged_b:
            if day_b == day:
                total += max(0, min(end, end_b) - max(start, start_b))
    return total


# --- the explainable score -------------------------------------------------------------

WEIGHTS = {"skills": 30, "hours": 30, "distance": 20, "languages": 10, "interests": 10}


@dataclass(frozen=True)
class Candidate:
    """What the score looks at, on either side of a suggestion."""

    skills: frozenset[str]
    windows: Sequence[Window]
    languages: frozenset[str]
    interests: frozenset[str]
    distance_km: float
    travel_km: float


@dataclass(frozen=True)
class Wanted:
    required_skills: frozenset[str]
    nice_skills: frozenset[str]
    windows: Sequence[Window]
    languages: frozenset[str]
    interests: frozenset[str]


@dataclass(frozen=True)
class Score:
    total: int
    parts: dict[str, int]
    reasons: list[str] = field(default_factory=list)


def _fold(values: Iterable[str]) -> dict[str, str]:
    return {v.strip().casefold(): v.strip() for v in values if v.strip()}


@lru_cache(maxsize=4096)
def _folded_keys(values: frozenset[str]) -> frozenset[str]:
    # A pool of thousands of workers has few distinct sets of languages or interests.
    return frozenset(_fold(values))


def hard_filter_problems(wanted: Wanted, candidate: Candidate) -> list[str]:
    """The hard filters, in Python (SQL applies the same ones first, for speed)."""
    problems = []
    missing = set(_fold(wanted.required_skills)) - set(_fold(candidate.skills))
    if missing:
        problems.append("missing required skills")
    if candidate.distance_km > candidate.travel_km:
        problems.append("further than the worker travels")
    if overlap_minutes(wanted.windows, candidate.windows) <= 0:
        problems.append("no availability in the hours needed")
    return problems


def score(wanted: Wanted, candidate: Candidate) -> Score:
    """A 0-100 score with the reasons a person can read."""
    return Scorer(wanted).score(candidate)


class Scorer:
    """`score` for many candidates against one Wanted: the wanted side is folded once, and
    `total` gives a candidate's total without writing its reasons (the same parts as
    `score`, so ranking by `total` and explaining only the top few ranks the same)."""

    def __init__(self, wanted: Wanted):
        self.wanted = wanted
        self.required = _fold(wanted.required_skills)
        self.nice = _fold(wanted.nice_skills)
        self.languages = _fold(wanted.languages)
        self.interests = _fold(wanted.interests)
        self.needed = window_minutes(wanted.windows)
        self.merged = _merge(wanted.windows)

    def hours(self, candidate: Candidate) -> int:
        """Minutes a week the candidate covers of those wanted (overlap_minutes)."""
        total = 0
        merged_b = _merge(candidate.windows)
        for day, start, end in self.merged:
            for day_b, start_b, end_b in merged_b:
                if day_b == day:
                    total += max(0, min(end, end_b) - max(start, start_b))
        return total

    def _figures(self, candidate: Candidate, common: int | None) -> tuple:
        held = _folded_keys(frozenset(candidate.skills)) if self.nice else ()
        have = sorted(self.nice[k] for k in self.nice if k in held)
        common = self.hours(candidate) if common is None else common
        langs = _folded_keys(frozenset(candidate.languages)) if self.languages else ()
        shared = sorted(self.languages[k] for k in self.languages if k in langs)
        interests = _folded_keys(frozenset(candidate.interests)) if self.interests else ()
        shared_interests = sorted(self.interests[k] for k in self.interests if k in interests)
        return have, common, shared, shared_interests

    def _parts(self, candidate: Candidate, have: int, common: int, shared: int, shared_interests: int) -> dict[str, int]:
        """The parts from how many nice skills, minutes, languages and interests match."""
        reach = max(candidate.travel_km, 0.5)
        return {
            "skills": round(WEIGHTS["skills"] * have / len(self.nice)) if self.nice else WEIGHTS["skills"],
            "hours": round(WEIGHTS["hours"] * common / self.needed) if self.needed else 0,
            "distance": max(0, round(WEIGHTS["distance"] * (1 - candidate.distance_km / reach))),
            "languages": round(WEIGHTS["languages"] * shared / len(self.languages)) if self.languages else 0,
            "interests": round(WEIGHTS["interests"] * min(shared_interests, 3) / 3),
        }

    def total(self, candidate: Candidate, common: int | None = None) -> int:
        """score(...).total, without the reasons (`common`: its hours, if already worked out)."""
        held = _folded_keys(frozenset(candidate.skills)) if self.nice else ()
        langs = _folded_keys(frozenset(candidate.languages)) if self.languages else ()
        interests = _folded_keys(frozenset(candidate.interests)) if self.interests else ()
        return sum(self._parts(
            candidate, sum(k in held for k in self.nice), self.hours(candidate) if common is None else common,
            sum(k in langs for k in self.languages), sum(k in interests for k in self.interests)).values())

    def score(self, candidate: Candidate, common: int | None = None) -> Score:
        have, common, shared, shared_interests = self._figures(candidate, common)
        parts = self._parts(candidate, len(have), common, len(shared), len(shared_interests))
        reasons: list[str] = []
        if self.required:
            reasons.append("Has every required skill: " + ", ".join(sorted(self.required[k] for k in self.required)))
        if self.nice:
            reasons.append(f"Has {len(have)} of {len(self.nice)} nice-to-have skills"
                           + (f": {', '.join(have)}" if have else ""))
        reasons.append(f"Available for {_hours(common)} of the {_hours(self.needed)} a week needed")
        reasons.append(f"Distance {distance_band(candidate.distance_km)} (travels up to {candidate.travel_km:g} km)")
        if shared:
            reasons.append("Speaks " + ", ".join(shared))
        if shared_interests:
            reasons.append("Shares interests: " + ", ".join(shared_interests))
        return Score(total=sum(parts.values()), parts=parts, reasons=reasons)


def _hours(minutes: int) -> str:
    hours = minutes / 60
    return f"{hours:g} hour" + ("" if hours == 1 else "s")


def rank(scored: Iterable[tuple[int, Score]]) -> list[tuple[int, Score]]:
    """Best first; ties broken by id so the order is stable."""
    return sorted(scored, key=lambda pair: (-pair[1].total, pair[0]))


# --- fairness and figures --------------------------------------------------------------

SMALL_CELL = 5
SUPPRESSED = None  # shown as "fewer than 5"


def suppress(count: int, threshold: int = SMALL_CELL) -> int | None:
    """A count, or None where it is under the threshold (could point at a person)."""
    return count if count >= threshold else SUPPRESSED


def rate(numerator: int | None, denominator: int | None) -> int | None:
    """A whole percentage, only when both counts may be shown."""
    if numerator is None or denominator is None or denominator == 0:
        return None
    return round(100 * numerator / denominator)


FAIRNESS_MEASURES = ("suggested", "team_yes", "team_no", "joined")


def fairness_rows(counts: dict[str, dict[str, int]], threshold: int = SMALL_CELL) -> list[dict]:
    """Per group: each count suppressed when small, and rates against `suggested`."""
    rows = []
    for group in sorted(counts):
        raw = counts[group]
        shown = {m: suppress(raw.get(m, 0), threshold) for m in FAIRNESS_MEASURES}
        if shown["suggested"] is None:
            # A small group shows nothing at all: its other counts could identify people.
            shown = dict.fromkeys(FAIRNESS_MEASURES, SUPPRESSED)
        row = {"group": group, **shown}
        for m in ("team_yes", "team_no", "joined"):
            row[f"{m}_rate"] = rate(shown[m], shown["suggested"])
        rows.append(row)
    return rows


def age_band(born: date | None, on: date) -> str | None:
    if born is None:
        return None
    age = on.year - born.year - ((on.month, on.day) < (born.month, born.day))
    for upper, label in ((25, "16-24"), (35, "25-34"), (50, "35-49"), (65, "50-64")):
        if age < upper:
            return label
    return "65+"


def success_share(mutual: int, active: int) -> int | None:
    """Share (whole percent) of mutual matches that led to an active team member."""
    return round(100 * active / mutual) if mutual else None


def median_days(durations_days: Sequence[float]) -> float | None:
    return float(statistics.median(durations_days)) if durations_days else None


# --- equality questions --------------------------------------------------------------------
# What the equality page asks: each question's answers as (stored value, words on the
# page), "prefer not to say" last. Leaving a question blank is allowed too (the report
# counts it as "not stated"). The API takes ethnicity and gender as free text; the page
# offers broad groups only, so the fairness report's groups stay big enough to show.

PREFER_NOT_TO_SAY = "prefer not to say"

EQUALITY_QUESTIONS: dict[str, tuple[str, tuple[tuple[str, str], ...]]] = {
    "ethnicity": ("Which of these best describes your ethnic group?", (
        ("Asian or Asian British", "Asian or Asian British"),
        ("Black, Black British, Caribbean or African", "Black, Black British, Caribbean or African"),
        ("Mixed or multiple ethnic groups", "Mixed or multiple ethnic groups"),
        ("White", "White"),
        ("Another ethnic group", "Another ethnic group"),
    )),
    "gender": ("Which of these best describes your gender?", (
        ("woman", "Woman"),
        ("man", "Man"),
        ("non-binary", "Non-binary"),
        ("another way", "I describe my gender another way"),
    )),
    "age_band": ("How old are you?", (
        ("16-24", "16 to 24"),
        ("25-34", "25 to 34"),
        ("35-49", "35 to 49"),
        ("50-64", "50 to 64"),
        ("65+", "65 or over"),
    )),
    "disability": ("Do you consider yourself to be disabled?", (
        ("yes", "Yes"),
        ("no", "No"),
    )),
}


def equality_choices(question: str, current: str | None = None) -> list[tuple[str, str]]:
    """The answers offered for `question`, "prefer not to say" last. An answer given
    earlier in other words (through the API) is offered too, so saving the page keeps it."""
    choices = list(EQUALITY_QUESTIONS[question][1])
    if current and current != PREFER_NOT_TO_SAY and current not in {value for value, _ in choices}:
        choices.append((current, f"{current} (as you gave it before)"))
    return [*choices, (PREFER_NOT_TO_SAY, "Prefer not to say")]
