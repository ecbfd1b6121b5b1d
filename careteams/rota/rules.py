"""Pure rota logic: clock-change-safe times, recurrences, offer codes and waves, and the
working-time and care-quality checks. No Flask, no session.

Every duration here is computed on UTC instants: subtracting two datetimes that
share a zoneinfo tzinfo gives wall-clock time, which is wrong across a clock change.

Rules chosen for issue 13 (the same on the web, the JSON API and the clock):

- **Recurring visits across clock changes** (`occurrence_span`). A series never makes a
  visit the rota would refuse as a one-off. Keyed on the visit's kind: overnight and
  sleep-in visits keep their wall-clock end (22:00-08:00 is 9 hours on the spring night
  and 11 on the autumn night); every other kind keeps its planned elapsed length; a start
  inside the spring gap moves forward by the gap (01:30 becomes 02:30 BST). Applied when
  a series is created, by the clock's `rota.materialise` and by "this and following".
  Should an occurrence still fail the co-op's blocking checks (say a co-op that blocks
  the break check and an overnight visit an hour longer on the autumn night), creating
  or splitting the series is a 422 naming the date, and the clock skips that series
  alone and tells the facilitators (`careteams.jobs_util`).
- **"This and following" after a visit was edited on its own.** Never two visits on one
  day. A following visit edited on its own keeps its edit: it moves to the new series,
  which skips its date. Why: the edit was a deliberate decision about that one day (a
  hospital appointment, a swap agreed with the family) that a later change of the
  pattern should not silently undo; the rota wrangler can still edit that visit. The
  same holds for a following visit that was cancelled or completed: the new series does
  not bring a cancelled day back. The visit the change is made *from* follows the new
  series even if it had been edited on its own before (that is what the person asked).
- **Clock jobs** (`rota.materialise`, `rota.offers`, `rota.complete`,
  `rota.missed_visits`, `rota.reminders`, and every other domain's) handle each item in
  its own savepoint (`careteams.jobs_util.run_each`): one poison series, offer or shift
  is rolled back alone, logged and said once to its co-op's facilitators; the others
  are done. Before, one bad series rolled back every co-op's new visits.
- **Dates of visits** (one-off shifts, moves, series' first and last dates) must fall
  in the co-op's business window (`members.rules.outside_business_window`: from its
  founding to 5 years ahead), else a 422 with the field named. The clock adds a series'
  occurrences only inside the window too.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr

# ---------------------------------------------------------------- times and zones


class NonexistentLocalTime(ValueError):
    """A wall-clock time skipped by a clock change (e.g. 01:30 on 29 March 2026 in London)."""


def duration(start: datetime, end: datetime) -> timedelta:
    """The true elapsed time between two aware instants."""
    return end.astimezone(UTC) - start.astimezone(UTC)


def minutes_between(start: datetime, end: datetime) -> float:
    return duration(start, end).total_seconds() / 60


def localise(naive: datetime, zone: str, *, strict: bool = True) -> datetime:
    """Attach a zone to a wall-clock time. Refuses (strict) a time that does not exist;
    an ambiguous time (the repeated hour in October) is the first one (fold=0)."""
    aware = naive.replace(tzinfo=ZoneInfo(zone), fold=0)
    round_trip = aware.astimezone(UTC).astimezone(ZoneInfo(zone))
    if round_trip.replace(tzinfo=None) != naive.replace(fold=0):
        if strict:
            raise NonexistentLocalTime(f"{naive:%d %b %Y %H:%M} does not exist in {zone} (the clocks go forward).")
        return round_trip  # moved on by the gap, as RFC 5545 says
    return aware


def to_utc(value: datetime, zone: str) -> datetime:
    """An API time: aware as given, or naive read as the team's wall clock."""
    if value.tzinfo is None or value.utcoffset() is None:
        value = localise(value, zone)
    return value.astimezone(UTC)


# Which kinds keep their wall-clock end across a clock change (see occurrence_span).
WALL_CLOCK_END_KINDS = frozenset({"overnight", "sleep_in"})
MAX_SHIFT = timedelta(hours=24)


def occurrence_span(wall_start: datetime, duration_minutes: int, kind: str, zone: str) -> tuple[datetime, datetime]:
    """The UTC start and end of one occurrence of a recurring visit that starts at the
    naive wall-clock time `wall_start`. The rule, keyed on the visit's kind, so a series
    never makes a visit the rota would refuse as a one-off:

    - A start inside the spring gap (01:00-02:00 in London on the last Sunday of March)
      moves forward by the gap: 01:30 becomes 02:30 BST. An ambiguous start (the repeated
      hour in October) is the first one (BST).
    - Overnight and sleep-in visits keep their wall-clock end: 22:00-08:00 is 9 hours on
      the spring night and 11 hours on the autumn night, and is paid as such. If keeping
      the wall-clock end would give a visit of no length or over 24 hours (a start moved
      by the gap past its end, or a 24-hour sleep-in on the autumn night), it keeps its
      planned elapsed length instead.
    - Every other kind keeps its planned elapsed length: a 75-minute personal-care visit
      at 00:45 is 75 minutes on both change nights (ending 03:00 BST in March, 01:00 GMT
      in October), never 15 or 135.
    """
    start = localise(wall_start, zone, strict=False).astimezone(UTC)
    planned = start + timedelta(minutes=duration_minutes)
    if kind not in WALL_CLOCK_END_KINDS:
        return start, planned
    end = localise(wall_start + timedelta(minutes=duration_minutes), zone, strict=False).astimezone(UTC)
    if end <= start or end - start > MAX_SHIFT:
        return start, planned
    return start, end


def occurrence_times(rule: str, first_date: date, start_time: time, duration_minutes: int, zone: str,
                     window_start: date, window_end: date, ends_on: date | None = None, *,
                     kind: str) -> list[tuple[date, datetime, datetime]]:
    """Occurrences (local date, UTC start, UTC end) of a recurring visit between two dates
    inclusive. Each starts at its wall-clock time; its end follows `occurrence_span`."""
    dtstart = datetime.combine(first_date, start_time)  # naive: rrule steps on the wall clock
    rule_set = rrulestr(rule, dtstart=dtstart, forceset=True)
    lo = datetime.combine(max(window_start, first_date), time.min)
    last = window_end if ends_on is None else min(window_end, ends_on)
    hi = datetime.combine(last, time.max)
    out = []
    for wall in rule_set.between(lo, hi, inc=True):
        start, end = occurrence_span(wall, duration_minutes, kind, zone)
        out.append((wall.date(), start, end))
    return out


def validate_rrule(rule: str) -> str | None:
    """An error message for a pattern we cannot use, or None."""
    text = rule.strip()
    if not text.upper().startswith(("RRULE:", "FREQ=")):
        return "Give a recurrence rule such as FREQ=WEEKLY;BYDAY=MO,TH."
    if "DTSTART" in text.upper():
        return "Give the first date and start time separately, not DTSTART."
    parts = dict(p.split("=", 1) for p in text.upper().removeprefix("RRULE:").split(";") if "=" in p)
    # At most one visit a day: the series keeps one shift per occurrence date.
    if parts.get("FREQ") not in ("DAILY", "WEEKLY", "MONTHLY", "YEARLY"):
        return "Repeat daily, weekly, monthly or yearly."
    if parts.get("UNTIL", "").endswith("Z"):
        return "Give UNTIL as a local date (UNTIL=20270131) or use ends_on."
    if {"BYHOUR", "BYMINUTE", "BYSECOND"} & set(parts):
        return "Give the start time separately; a pattern may not repeat within a day."
    try:
        rrulestr(text, dtstart=datetime(2026, 1, 1))  # noqa: DTZ001  (wall clock on purpose)
    except (ValueError, TypeError) as exc:
        return f"Not a valid recurrence rule: {exc}."
    return None


def week_bounds(day: date, zone: str) -> tuple[datetime, datetime]:
    """Monday 00:00 to the next Monday 00:00 in the zone, as UTC instants."""
    monday = day - timedelta(days=day.weekday())
    start = localise(datetime.combine(monday, time.min), zone, strict=False)
    end = localise(datetime.combine(monday + timedelta(days=7), time.min), zone, strict=False)
    return start.astimezone(UTC), end.astimezone(UTC)


# ---------------------------------------------------------------- offers


def new_code(taken: Iterable[str], rng: random.Random | None = None) -> str:
    """A 3-4 digit code not among `taken` (the worker's live codes)."""
    rng = rng or random.SystemRandom()
    used = set(taken)
    for _ in range(200):
        code = str(rng.randint(100, 9999))
        if code not in used:
            return code
    for n in range(100, 10000):  # a worker with thousands of live codes: walk the space
        if str(n) not in used:
            return str(n)
    raise RuntimeError("no free offer code")


def waves(person_ids: Sequence[int], wave_size: int) -> list[list[int]]:
    """Split eligible workers into waves; 0 means everyone at once."""
    if not person_ids:
        return []
    if wave_size <= 0:
        return [list(person_ids)]
    return [list(person_ids[i:i + wave_size]) for i in range(0, len(person_ids), wave_size)]


def overlaps(a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime) -> bool:
    """Half-open intervals: a shift ending at 10:00 does not clash with one starting at 10:00."""
    return a_start < b_end and b_start < a_end


# ---------------------------------------------------------------- around the visit

# The worker may say she has arrived, and sees the address and access notes, from this
# long before the visit's start until its end: one window for both, so the page offers
# the button exactly when the attendance service accepts it.
AROUND_VISIT_BEFORE = timedelta(hours=2)


def around_visit(starts_at: datetime, ends_at: datetime, now: datetime) -> bool:
    """True from AROUND_VISIT_BEFORE before the start until the end (both included)."""
    return starts_at - AROUND_VISIT_BEFORE <= now <= ends_at


# ---------------------------------------------------------------- checks

REST = "rest"
WEEKLY_HOURS = "weekly_hours"
BREAK = "break"
SHORT_VISIT = "short_visit"
SHORT_PERSONAL_CARE = "short_personal_care"
PERSONAL_CARE_TOO_SHORT = "personal_care_too_short"
TRAVEL = "travel"
CHECK_CODES = (REST, WEEKLY_HOURS, BREAK, SHORT_VISIT, SHORT_PERSONAL_CARE, PERSONAL_CARE_TOO_SHORT, TRAVEL)

MIN_DAILY_REST = timedelta(hours=11)
WEEKLY_LIMIT_HOURS = 48
REFERENCE_WEEKS = 17
BREAK_AFTER = timedelta(hours=6)
MIN_BREAK_MINUTES = 20
PERSONAL_CARE_WARN_MINUTES = 30
PERSONAL_CARE_REFUSE_MINUTES = 15


@dataclass(frozen=True)
class Finding:
    code: str
    message: str
    blocking: bool = False


@dataclass(frozen=True)
class Visit:
    """A shift as the checks see it: UTC instants and where it happens."""

    starts_at: datetime
    ends_at: datetime
    kind: str = "practical_help"
    break_minutes: int = 0
    latitude: float | None = None
    longitude: float | None = None
    place: int | None = None  # the team: same place, no travel


def _merge(intervals: Iterable[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    merged: list[tuple[datetime, datetime]] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def longest_rest(busy: list[tuple[datetime, datetime]], window_start: datetime, window_end: datetime) -> timedelta:
    """The longest time free of work inside a window."""
    cursor, best = window_start, timedelta(0)
    for start, end in busy:
        if end <= window_start or start >= window_end:
            continue
        best = max(best, min(start, window_end) - cursor)
        cursor = max(cursor, end)
    return max(best, window_end - cursor)


def check_daily_rest(visit: Visit, others: Sequence[Visit]) -> list[Finding]:
    """11 consecutive hours' rest in each 24 hours (checked on the 24 hours from each
    nearby shift's start)."""
    nearby = [o for o in others if o.ends_at > visit.starts_at - timedelta(hours=48)
              and o.starts_at < visit.ends_at + timedelta(hours=48)]
    if not nearby:
        return []
    busy = _merge([(v.starts_at, v.ends_at) for v in [visit, *nearby]])
    for start, _ in busy:
        rest = longest_rest(busy, start, start + timedelta(hours=24))
        if rest < MIN_DAILY_REST:
            hours = rest.total_seconds() / 3600
            return [Finding(REST, f"Less than 11 hours' rest in 24 hours (longest break {hours:.1f} h).")]
    return []


def hours_in(visits: Iterable[Visit], start: datetime, end: datetime) -> float:
    total = timedelta(0)
    for s, e in _merge((v.starts_at, v.ends_at) for v in visits):
        lo, hi = max(s, start), min(e, end)
        if hi > lo:
            total += hi - lo
    return total.total_seconds() / 3600


def check_weekly_hours(visit: Visit, others: Sequence[Visit], week: tuple[datetime, datetime], opted_out: bool) -> tuple[list[Finding], float, float]:
    """The 17-week average (ending with the visit's week) over 48 hours a week, unless the
    worker opted out. Returns the findings, that average and the current week's hours."""
    everything = [visit, *others]
    week_start, week_end = week
    reference_start = week_end - timedelta(weeks=REFERENCE_WEEKS)
    average = hours_in(everything, reference_start, week_end) / REFERENCE_WEEKS
    this_week = hours_in(everything, week_start, week_end)
    findings = []
    if average > WEEKLY_LIMIT_HOURS and not opted_out:
        findings.append(Finding(WEEKLY_HOURS, f"Average of {average:.1f} hours a week over 17 weeks is over 48 "
                                              f"({this_week:.1f} hours this week)."))
    return findings, average, this_week


def check_break(visit: Visit) -> list[Finding]:
    if duration(visit.starts_at, visit.ends_at) > BREAK_AFTER and visit.break_minutes < MIN_BREAK_MINUTES:
        return [Finding(BREAK, "Over 6 hours without a 20-minute break planned.")]
    return []


def check_visit_length(visit: Visit, team_minimum_minutes: int, allow_short_personal_care: bool) -> list[Finding]:
    minutes = minutes_between(visit.starts_at, visit.ends_at)
    findings = []
    if visit.kind == "personal_care" and minutes <= PERSONAL_CARE_REFUSE_MINUTES:
        findings.append(Finding(PERSONAL_CARE_TOO_SHORT, "A personal-care visit of 15 minutes or less is not enough time.",
                                blocking=not allow_short_personal_care))
    elif visit.kind == "personal_care" and minutes < PERSONAL_CARE_WARN_MINUTES:
        findings.append(Finding(SHORT_PERSONAL_CARE, "A personal-care visit under 30 minutes is rushed."))
    if minutes < team_minimum_minutes:
        findings.append(Finding(SHORT_VISIT, f"Shorter than the team's minimum visit of {team_minimum_minutes} minutes."))
    return findings


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    r = 6371.0088
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


def travel_minutes(a: Visit, b: Visit, speed_kmh: int) -> float | None:
    if a.place is not None and a.place == b.place:
        return 0.0
    if None in (a.latitude, a.longitude, b.latitude, b.longitude):
        return None
    return haversine_km(a.latitude, a.longitude, b.latitude, b.longitude) / speed_kmh * 60  # type: ignore[arg-type]


def check_travel(visit: Visit, others: Sequence[Visit], speed_kmh: int) -> list[Finding]:
    """The gap to the visits just before and after, in other places, must cover the travel."""
    findings = []
    before = [o for o in others if o.ends_at <= visit.starts_at]
    after = [o for o in others if o.starts_at >= visit.ends_at]
    pairs = []
    if before:
        pairs.append(max(before, key=lambda o: o.ends_at))
    if after:
        pairs.append(min(after, key=lambda o: o.starts_at))
    for other in pairs:
        needed = travel_minutes(visit, other, speed_kmh)
        if not needed:
            continue
        gap = minutes_between(other.ends_at, visit.starts_at) if other.ends_at <= visit.starts_at \
            else minutes_between(visit.ends_at, other.starts_at)
        if gap < needed:
            findings.append(Finding(TRAVEL, f"{gap:.0f} minutes between visits but about {needed:.0f} minutes' travel."))
    return findings


def check_visit(visit: Visit, others: Sequence[Visit], *, week: tuple[datetime, datetime], opted_out: bool,
                team_minimum_minutes: int, allow_short_personal_care: bool, speed_kmh: int,
                blocking_checks: Iterable[str] = ()) -> list[Finding]:
    """Every working-time and care-quality check of one visit for one worker, with the
    co-op's chosen checks turned into blocks."""
    others = [o for o in others if not overlaps(o.starts_at, o.ends_at, visit.starts_at, visit.ends_at)]
    findings = [
        *check_daily_rest(visit, others),
        *check_weekly_hours(visit, others, week, opted_out)[0],
        *check_break(visit),
        *check_visit_length(visit, team_minimum_minutes, allow_short_personal_care),
        *check_travel(visit, others, speed_kmh),
    ]
    blocks = set(blocking_checks)
    return [Finding(f.code, f.message, f.blocking or f.code in blocks) for f in findings]


def check_shape(visit: Visit, *, team_minimum_minutes: int, allow_short_personal_care: bool,
                blocking_checks: Iterable[str] = ()) -> list[Finding]:
    """The checks that need no worker: length and breaks."""
    blocks = set(blocking_checks)
    findings = [*check_break(visit), *check_visit_length(visit, team_minimum_minutes, allow_short_personal_care)]
    return [Finding(f.code, f.message, f.blocking or f.code in blocks) for f in findings]


def notice_minutes(cancelled_at: datetime, starts_at: datetime) -> int:
    """Notice given for a cancellation, in whole minutes (0 once the shift has started)."""
    return max(0, int(minutes_between(cancelled_at, starts_at)))


# ---------------------------------------------------------------- the web's visit forms

# The support plan's sections whose lines are tasks one can give a visit (teams.rules.PLAN_SECTIONS).
TASK_SECTIONS = ("routines", "personal_care", "outcomes")
MAX_TASKS = 30
MAX_TASK_LENGTH = 200


def plan_tasks(sections: dict[str, dict]) -> list[str]:
    """The tasks a visit may carry: each line of the plan's routines, personal care and
    outcomes, without bullet marks, in the plan's order, each once."""
    out: list[str] = []
    for key in TASK_SECTIONS:
        for line in str((sections.get(key) or {}).get("text") or "").splitlines():
            task = line.strip().lstrip("-*\u2022").strip()[:MAX_TASK_LENGTH]
            if task and task not in out:
                out.append(task)
    return out[:MAX_TASKS]


def clock_changes_between(zone: str, first: date, last: date) -> list[date]:
    """The days between two dates (inclusive, at most about a year) on which the zone's
    clocks change (in London, the last Sundays of March and October)."""
    tz = ZoneInfo(zone)
    out = []
    day = first
    previous = datetime.combine(first - timedelta(days=1), time(12), tzinfo=tz).utcoffset()
    while day <= min(last, first + timedelta(days=400)):
        offset = datetime.combine(day, time(12), tzinfo=tz).utcoffset()
        if offset != previous:
            out.append(day)
        previous = offset
        day += timedelta(days=1)
    return out


# A one-off visit is given on the wall clock (start and end), so it lasts the real time between them.
ONE_OFF_CLOCK_WORDS = ("Give the start and finish as the clock shows them: the visit lasts the real time "
                       "between them. On the night the clocks go back, 00:30 to 02:30 is 3 hours; on the night "
                       "they go forward it is 1 hour, and a time between 01:00 and 02:00 does not exist.")


def clock_change_words(kind: str) -> str:
    """What happens to a visit of this kind on a night the clocks change, in plain words
    (the rule of occurrence_span, for one-off visits and series alike)."""
    gap = ("A visit starting between 01:00 and 02:00 on the day the clocks go forward starts "
           "at 02:00 instead, because that hour does not exist.")
    if kind in WALL_CLOCK_END_KINDS:
        return ("Overnight and sleep-in visits keep their finishing time on the clock: a visit from 22:00 "
                "to 08:00 lasts 9 hours on the night the clocks go forward and 11 hours on the night they "
                "go back, and is paid for the time it really lasts. " + gap)
    return ("This kind of visit keeps its length, not its finishing time: a 1-hour visit lasts 1 hour "
            "even on the night the clocks change, so on that night it may finish an hour earlier or "
            "later on the clock. " + gap)


def wall_end(day: date, start: time, end: time, kind: str) -> tuple[datetime, datetime]:
    """A visit's start and end on the wall clock from a day and two times: an end at or
    before the start is the next morning for overnight and sleep-in visits only (any
    other kind is refused later: the end must be after the start)."""
    starts = datetime.combine(day, start)
    ends = datetime.combine(day, end)
    if ends <= starts and kind in WALL_CLOCK_END_KINDS:
        ends += timedelta(days=1)
    return starts, ends


def notice_words(minutes: int) -> str:
    """Notice given, said plainly: '2 days and 3 hours', '45 minutes', 'no notice'."""
    if minutes <= 0:
        return "no notice (the visit has started)"
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = [f"{n} {word}{'' if n == 1 else 's'}" for n, word in ((days, "day"), (hours, "hour")) if n]
    if not days and mins:
        parts.append(f"{mins} minute{'' if mins == 1 else 's'}")
    return " and ".join(parts) if parts else "less than a minute"


# ---------------------------------------------------------------- recurring visits on the web

WEEKDAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
EVERY_WEEKDAY = "weekdays"
EVERY_DAY = "daily"
CHOSEN_DAYS = "days"
REPEATS = (EVERY_WEEKDAY, EVERY_DAY, CHOSEN_DAYS)


def series_rrule(repeat: str, days: Iterable[str] = ()) -> str:
    """The RRULE for the web form's choice: "weekdays" (Monday to Friday), "daily", or
    "days" with the chosen weekday codes (MO..SU, any order, in week order in the rule).
    Raises ValueError with plain words for a choice the form should refuse."""
    if repeat == EVERY_DAY:
        return "FREQ=DAILY"
    if repeat == EVERY_WEEKDAY:
        return "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"
    if repeat != CHOSEN_DAYS:
        raise ValueError("Choose how often the visit repeats.")
    chosen = {str(d).upper() for d in days}
    unknown = chosen - set(WEEKDAY_CODES)
    if unknown or not chosen:
        raise ValueError("Choose at least one day of the week.")
    return "FREQ=WEEKLY;BYDAY=" + ",".join(code for code in WEEKDAY_CODES if code in chosen)


CLOCK_CHANGE_RULE = (
    "When the clocks change, an overnight or sleep-in visit keeps its end on the clock: "
    "22:00 to 08:00 is 9 hours on the night the clocks go forward and 11 on the night they "
    "go back. Every other kind keeps its length (a 1-hour visit is 1 hour). A start that "
    "falls in the hour the clocks skip (01:00 to 02:00 on the last Sunday of March in the UK) "
    "moves on by that hour.")


# --- escalation ------------------------------------------------------------------

# Shift.escalation_level: 0 the team's workers are asked in waves, 1 the circle was told,
# 2 the clock passed the visit to the co-op's facilitators (offers.expire_and_escalate).
ESCALATED_TO_CIRCLE = 1
ESCALATED_TO_FACILITATORS = 2


def escalated_to_facilitators(escalation_level: int | None) -> bool:
    """Whether the clock has passed an unfilled visit to the co-op's facilitators."""
    return (escalation_level or 0) >= ESCALATED_TO_FACILITATORS
