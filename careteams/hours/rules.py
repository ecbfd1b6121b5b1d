"""Pure rules for hours: the timesheet state machine, pay and charge arithmetic,
pay periods, the fair-pay check and the co-op's figures. No Flask, no database.

Money is integer pence; exact intermediate values are `Fraction`s; each amount
(one per entry per pay element) is rounded once, half up, to the penny, and
totals are sums of rounded amounts. Nothing here ever makes a float.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from careteams.hours.enums import EntryKind, Frequency, TimesheetAction, TimesheetStatus

# ---------------------------------------------------------------- state machine


S, A = TimesheetStatus, TimesheetAction
TRANSITIONS: dict[tuple[TimesheetStatus, TimesheetAction], TimesheetStatus] = {
    (S.pending, A.edit): S.pending,
    (S.pending, A.submit): S.submitted,
    (S.submitted, A.confirm): S.confirmed,
    (S.submitted, A.adjust): S.adjustment_proposed,
    (S.submitted, A.dispute): S.disputed,
    (S.submitted, A.auto_confirm): S.confirmed,
    (S.adjustment_proposed, A.accept): S.confirmed,
    (S.adjustment_proposed, A.reject): S.disputed,
    (S.disputed, A.confirm): S.confirmed,  # the checker, having heard the worker's answer
    (S.disputed, A.resolve): S.confirmed,
    (S.disputed, A.resolve_void): S.void,
}

# Who acts: the worker whose hours they are, a checker of the team, a facilitator, the clock.
WORKER_ACTIONS = frozenset({A.edit, A.submit, A.accept, A.reject})
CHECKER_ACTIONS = frozenset({A.confirm, A.adjust, A.dispute})
FACILITATOR_ACTIONS = frozenset({A.resolve, A.resolve_void})


class InvalidTransition(Exception):
    def __init__(self, status: TimesheetStatus, action: TimesheetAction):
        super().__init__(f"An entry that is {status.value.replace('_', ' ')} cannot be {action.value.replace('_', ' ')}ed.")
        self.status, self.action = status, action


def next_status(status: TimesheetStatus, action: TimesheetAction) -> TimesheetStatus:
    """The status after `action`, or InvalidTransition. Confirmed and void are final."""
    try:
        return TRANSITIONS[(status, action)]
    except KeyError:
        raise InvalidTransition(status, action) from None


def in_conversation(status: TimesheetStatus) -> bool:
    """A dispute is answered and replied to only while it is open."""
    return status == S.disputed


def due_for_auto_confirm(status: TimesheetStatus, submitted_at: datetime | None, now: datetime,
                         after_hours: int) -> bool:
    """Only a submitted entry is ever confirmed by the clock; a pending one never is."""
    return (status == S.submitted and submitted_at is not None
            and submitted_at + timedelta(hours=after_hours) <= now)


def reminder_due(status: TimesheetStatus, last_reminded_on: date | None, today: date) -> bool:
    """A pending entry's worker is reminded at most once a (local) day."""
    return status == S.pending and (last_reminded_on is None or last_reminded_on < today)


# ---------------------------------------------------------------- time


def worked_minutes(started_at: datetime, ended_at: datetime, break_minutes: int) -> int:
    """Real elapsed minutes in UTC (a 20:00-08:00 night across October's change is 13 h), less breaks."""
    elapsed = ended_at.astimezone(UTC) - started_at.astimezone(UTC)
    return int(elapsed.total_seconds()) // 60 - break_minutes


def local_times(day: date, start: tuple[int, int], end: tuple[int, int], zone: str) -> tuple[datetime, datetime]:
    """Wall-clock start and end on `day` in `zone` as aware UTC; an end before the start is the next day."""
    tz = ZoneInfo(zone)
    starts = datetime(day.year, day.month, day.day, start[0], start[1], tzinfo=tz)
    end_day = day if end > start else day + timedelta(days=1)
    ends = datetime(end_day.year, end_day.month, end_day.day, end[0], end[1], tzinfo=tz)
    for wall in (starts, ends):
        # 01:30 on the March change day never happens on the clock: zoneinfo would
        # accept it silently, so check by a round trip through UTC. (An ambiguous
        # October time is read as its first occurrence, fold=0.)
        if wall.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != wall.replace(tzinfo=None):
            raise ValueError(f"{wall:%H:%M} does not exist on {wall:%d %b %Y}: the clocks went forward.")
    return starts.astimezone(UTC), ends.astimezone(UTC)


# ---------------------------------------------------------------- money


def round_half_up(value: Fraction) -> int:
    """Round an exact amount of pence to a whole penny, halves away from zero."""
    sign = -1 if value < 0 else 1
    magnitude = abs(value)
    return sign * ((2 * magnitude.numerator + magnitude.denominator) // (2 * magnitude.denominator))


def percent(value: Decimal | int | str) -> Fraction:
    """A percentage as an exact fraction (17.5 -> 7/40)."""
    return Fraction(Decimal(str(value))) / 100


def rate_on(rates: Iterable[tuple[date, int]], day: date) -> int | None:
    """The rate (pence) in force on `day`: the latest one whose effective date is not after it."""
    best: tuple[date, int] | None = None
    for effective_from, pence in rates:
        if effective_from <= day and (best is None or effective_from >= best[0]):
            best = (effective_from, pence)
    return best[1] if best else None


@dataclass(frozen=True)
class PayTerms:
    """What one entry is paid and charged at (all pence; percentages as Decimal)."""

    employed: bool
    hourly_pence: int
    night_pence: int = 0  # added per hour on overnight entries (employed)
    bank_holiday_pence: int = 0  # added per hour when the work starts on a bank holiday (employed)
    sleep_in_pence: int = 0
    cancellation_percent: Decimal = Decimal("0")
    mileage_pence_per_mile: int = 0
    charge_percent: Decimal = Decimal("17.5")  # the co-op's contribution added to what the payer is charged
    deduction_percent: Decimal = Decimal("7.5")  # taken from an independent worker's rate
    bank_holiday: bool = False


@dataclass(frozen=True)
class EntryFacts:
    kind: EntryKind
    worked_minutes: int  # after breaks (for a cancellation: the planned length)
    travel_minutes: int = 0
    mileage: Decimal = Decimal("0")


@dataclass(frozen=True)
class PayLine:
    element: str  # hours, travel, night_enhancement, bank_holiday_enhancement, sleep_in, cancellation, mileage
    quantity: Decimal  # minutes, miles or 1
    rate_pence: int
    pay_pence: int  # to the worker, each rounded once from the exact amount
    charge_pence: int  # to the payer


# Every pay element, and what its quantity counts (for labels: minutes are never called hours).
ELEMENT_UNITS = {"hours": "minutes", "travel": "minutes", "night_enhancement": "minutes",
                 "bank_holiday_enhancement": "minutes", "cancellation": "minutes", "sleep_in": "nights",
                 "mileage": "miles"}
ELEMENTS = frozenset(ELEMENT_UNITS)


def hours_2dp(minutes: int | Decimal) -> Decimal:
    """Minutes as hours to two decimal places, half up (170 -> 2.83), for labels only."""
    exact = Fraction(Decimal(minutes)) / 60
    return (Decimal(round_half_up(exact * 100)) / 100).quantize(Decimal("0.01"))


def pay_lines(facts: EntryFacts, terms: PayTerms) -> list[PayLine]:
    """The pay elements of one entry, each computed exactly and rounded once."""
    keep = Fraction(1) if terms.employed else 1 - percent(terms.deduction_percent)
    charge = 1 + percent(terms.charge_percent)
    lines: list[PayLine] = []

    def add(element: str, quantity: Decimal, rate: int, exact: Fraction, *, expense: bool = False) -> None:
        if exact == 0:
            return
        # Expenses (mileage) are passed on at cost: no deduction, no contribution.
        lines.append(PayLine(element, quantity, rate, round_half_up(exact if expense else exact * keep),
                             round_half_up(exact if expense else exact * charge)))

    hours = Fraction(facts.worked_minutes, 60)
    if facts.kind in (EntryKind.visit, EntryKind.overnight):
        add("hours", Decimal(facts.worked_minutes), terms.hourly_pence, hours * terms.hourly_pence)
        if facts.kind == EntryKind.overnight and terms.night_pence:
            add("night_enhancement", Decimal(facts.worked_minutes), terms.night_pence, hours * terms.night_pence)
        if terms.bank_holiday and terms.bank_holiday_pence:
            add("bank_holiday_enhancement", Decimal(facts.worked_minutes), terms.bank_holiday_pence,
                hours * terms.bank_holiday_pence)
    elif facts.kind == EntryKind.sleep_in:
        add("sleep_in", Decimal(1), terms.sleep_in_pence, Fraction(terms.sleep_in_pence))
    elif facts.kind == EntryKind.cancellation:
        add("cancellation", Decimal(facts.worked_minutes), terms.hourly_pence,
            hours * terms.hourly_pence * percent(terms.cancellation_percent))
    if facts.travel_minutes and facts.kind != EntryKind.cancellation:
        add("travel", Decimal(facts.travel_minutes), terms.hourly_pence,
            Fraction(facts.travel_minutes, 60) * terms.hourly_pence)
    if facts.mileage and terms.mileage_pence_per_mile:
        add("mileage", facts.mileage, terms.mileage_pence_per_mile,
            Fraction(facts.mileage) * terms.mileage_pence_per_mile, expense=True)
    return lines


def cancellation_pay_due(notice_minutes: int | None, short_notice_hours: int, percent_paid: Decimal) -> bool:
    """A booked visit cancelled with less notice than the co-op's setting is paid (at its percentage)."""
    return notice_minutes is not None and notice_minutes < short_notice_hours * 60 and percent_paid > 0


def split_by_shares(total: int, shares: Sequence[int]) -> list[int]:
    """Split whole pence by percentages summing to 100, largest remainder first, so the
    parts always add up to the (already rounded) total."""
    if sum(shares) != 100:
        raise ValueError("shares must sum to 100")
    exact = [Fraction(total * s, 100) for s in shares]
    parts = [int(x.numerator // x.denominator) for x in exact]
    left = total - sum(parts)
    order = sorted(range(len(shares)), key=lambda i: (-(exact[i] - parts[i]), i))
    for i in order[:left]:
        parts[i] += 1
    return parts


# ---------------------------------------------------------------- periods


def period_bounds(frequency: Frequency, start: date) -> tuple[date, date]:
    """[start, end) of the pay period beginning on `start` (a Monday, or the 1st)."""
    if frequency == Frequency.weekly:
        if start.weekday() != 0:
            raise ValueError("A weekly period starts on a Monday.")
        return start, start + timedelta(days=7)
    if start.day != 1:
        raise ValueError("A monthly period starts on the 1st.")
    end = date(start.year + (start.month == 12), start.month % 12 + 1, 1)
    return start, end


def local_midnight_utc(day: date, zone: str) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(zone)).astimezone(UTC)


# ---------------------------------------------------------------- fair pay

WAGE_TABLE = Path(__file__).resolve().parent.parent.parent / "config" / "minimum_wage.json"


@lru_cache(maxsize=4)
def load_wage_table(path: str = str(WAGE_TABLE)) -> dict:
    with open(path, encoding="utf-8") as handle:
        raw = json.load(handle)
    return {
        "bands": {band: sorted((date.fromisoformat(d), int(p)) for d, p in rows) for band, rows in raw["bands"].items()},
        "bank_holidays": frozenset(date.fromisoformat(d) for d in raw.get("bank_holidays_england_wales", [])),
    }


def age_on(date_of_birth: date, day: date) -> int:
    return day.year - date_of_birth.year - ((day.month, day.day) < (date_of_birth.month, date_of_birth.day))


def age_band(date_of_birth: date | None, day: date) -> str:
    """The minimum-wage band on `day`. Without a date of birth we assume 21 and over
    (the highest rate), so nobody is under-checked."""
    if date_of_birth is None:
        return "21_and_over"
    age = age_on(date_of_birth, day)
    return "21_and_over" if age >= 21 else "18_to_20" if age >= 18 else "under_18"


def minimum_hourly_pence(band: str, day: date, table: dict | None = None) -> tuple[int, date] | None:
    """The legal minimum (pence an hour) for a band on a day, and the date it took effect."""
    table = table or load_wage_table()
    best = None
    for effective_from, pence in table["bands"].get(band, []):
        if effective_from <= day:
            best = (pence, effective_from)
    return best


@dataclass(frozen=True)
class FairPay:
    pay_pence: int
    working_minutes: int
    minimum_pence: int
    effective_pence_per_hour: Decimal  # exact to two decimal places of a penny, for display
    below: bool
    arithmetic: str


def pounds(pence: int | Decimal) -> str:
    value = Decimal(pence) / 100
    return f"£{value:,.2f}"


def pence_from_pounds(text: str) -> int:
    """Money typed in pounds ("12.60", "£12.6", "12") as integer pence; ValueError for
    anything else (a negative amount, more than two decimal places, words)."""
    cleaned = (text or "").strip().lstrip("£").replace(",", "").strip()
    if not re.fullmatch(r"\d+(\.\d{1,2})?", cleaned):
        raise ValueError("Enter an amount in pounds and pence, like 12.60.")
    return int(Decimal(cleaned) * 100)


def pounds_plain(pence: int) -> str:
    """Pence as typed in a form: 1260 -> "12.60"."""
    return f"{Decimal(pence) / 100:.2f}"


@dataclass(frozen=True)
class RateLine:
    """One of a band's rates and where it stands today: "in force", "scheduled" or "past"."""

    rate: object
    standing: str


def rates_by_band(rates: Iterable, bands: Iterable, today: date) -> dict:
    """A co-op's rates per area band, newest date first, each marked: the latest one from
    today or before is in force; later ones are scheduled; earlier ones are past. Each
    rate needs `area_band` and `effective_from`."""
    grouped: dict = {band: [] for band in bands}
    for rate in sorted(rates, key=lambda r: r.effective_from, reverse=True):
        grouped.setdefault(rate.area_band, []).append(rate)
    result = {}
    for band, rows in grouped.items():
        lines, found = [], False
        for rate in rows:
            if rate.effective_from > today:
                standing = "scheduled"
            elif not found:
                standing, found = "in force", True
            else:
                standing = "past"
            lines.append(RateLine(rate, standing))
        result[band] = lines
    return result


def fair_pay(pay_pence: int, working_minutes: int, minimum_pence: int, band_label: str = "") -> FairPay:
    """Effective hourly pay = total pay / all working time (visits, travel between them,
    waiting), compared exactly (no rounding) with the legal minimum."""
    if working_minutes <= 0:
        return FairPay(pay_pence, 0, minimum_pence, Decimal("0"), False, "No working time in this period.")
    exact = Fraction(pay_pence * 60, working_minutes)
    shown = Decimal(round_half_up(exact * 100)) / 100  # pence per hour to 2 dp, display only
    below = exact < minimum_pence
    hours, minutes = divmod(working_minutes, 60)
    arithmetic = (f"{pounds(pay_pence)} pay ÷ {hours} h {minutes:02d} min working time = "
                  f"{pounds(shown)} an hour; the minimum{(' for ' + band_label) if band_label else ''} is "
                  f"{pounds(minimum_pence)} an hour"
                  f"{': BELOW the minimum' if below else ''}.")
    return FairPay(pay_pence, working_minutes, minimum_pence, shown, below, arithmetic)


# ---------------------------------------------------------------- figures


def annualised_turnover_percent(leavers: int, headcount_start: int, headcount_end: int) -> Decimal:
    """Leavers over the average headcount, times 12 for a month, as a percentage (1 dp)."""
    return turnover_percent(leavers, [Fraction(headcount_start + headcount_end, 2)])


def turnover_percent(leavers: int, monthly_average_headcounts: Sequence[Fraction]) -> Decimal:
    """Turnover over some months, annualised: the leavers over the average headcount (the mean
    of each month's average), times 12 over the number of months, as a percentage (1 dp)."""
    months = len(monthly_average_headcounts)
    average = sum(monthly_average_headcounts, Fraction(0)) / months if months else Fraction(0)
    if average == 0:
        return Decimal("0.0")
    value = Fraction(leavers) / average * Fraction(12, months) * 100
    return (Decimal(round_half_up(value * 10)) / 10).quantize(Decimal("0.1"))


# Yearly worker turnover to compare the co-op's with (issue 18): Equal Care Co-op's
# reported rate and the adult social care sector's, as Equal Care reports them.
EQUAL_CARE_TURNOVER_PERCENT = 7
SECTOR_TURNOVER_PERCENT = 32


def turnover_comparison(percent: Decimal) -> str:
    """The co-op's yearly turnover beside Equal Care's 7% and the sector's 32%, in words."""
    if percent < EQUAL_CARE_TURNOVER_PERCENT:
        where = "lower than both"
    elif percent == EQUAL_CARE_TURNOVER_PERCENT:
        where = "the same as Equal Care's and lower than the sector's"
    elif percent < SECTOR_TURNOVER_PERCENT:
        where = "higher than Equal Care's but lower than the sector's"
    elif percent == SECTOR_TURNOVER_PERCENT:
        where = "the same as the sector's"
    else:
        where = "higher than both"
    return (f"{percent}% a year: {where} (Equal Care Co-op reports {EQUAL_CARE_TURNOVER_PERCENT}% "
            f"against {SECTOR_TURNOVER_PERCENT}% across the care sector).")


def share_percent(part: int, whole: int) -> Decimal:
    if whole == 0:
        return Decimal("0.0")
    return (Decimal(round_half_up(Fraction(part * 1000, whole))) / 10).quantize(Decimal("0.1"))


def month_starts(first: date, last: date) -> list[date]:
    months, day = [], date(first.year, first.month, 1)
    while day <= last:
        months.append(day)
        day = date(day.year + (day.month == 12), day.month % 12 + 1, 1)
    return months
