"""Demo hours: pay settings and rates, funders for the demo teams, last week's
timesheet entries in every state (pending, submitted, confirmed), and last month's
confirmed visits with their pay run made, so Ann's money page and Wendy's statement
show real figures. Idempotent."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from careteams.db import utcnow
from careteams.demo import DEMO_STEPS
from careteams.extensions import db
from careteams.hours.enums import AreaBand, EntryEventKind, FunderKind, TimesheetStatus
from careteams.hours.models import CoopPayRate, Funder, HoursSettings, TimesheetEntry
from careteams.hours.services import history
from careteams.hours.services.runs import close_run
from careteams.members.models import Cooperative, Person
from careteams.members.services import actor_for
from careteams.rota.services.offers import team_worker_ids
from careteams.teams.models import Team

DEMO_NOTE = "Demo hours"
FUNDERS = {"ann": [(FunderKind.council, "Kirklees Council", 70), (FunderKind.self_funded, "Ann", 30)],
           "bill": [(FunderKind.direct_payment, "Bill's direct payment", 100)]}
# (days before today, start hour, hours, status)
ENTRIES = [(6, 9, 2, TimesheetStatus.confirmed), (4, 13, 3, TimesheetStatus.submitted), (1, 10, 2, TimesheetStatus.pending)]
PAID_NOTE = "Demo hours, paid"
# Last month's visits, paid in its run: (day of month, start hour, minutes, travel minutes, miles).
LAST_MONTH = [(3, 9, 120, 15, "4.0"), (10, 9, 90, 15, "4.0"), (17, 14, 150, 20, "6.5"), (24, 9, 120, 15, "4.0")]


def seed_hours(coop: Cooperative, people: dict[str, Person]) -> None:
    if coop.founded_on is None:
        # The demo's hours start last week; without a founding day the co-op would only
        # "exist" from the day the demo was first seeded (members/rules.py business_window).
        coop.founded_on = date(2020, 1, 1)
    if db.session.scalar(sa.select(HoursSettings.id).where(HoursSettings.cooperative_id == coop.id)) is None:
        db.session.add(HoursSettings(cooperative_id=coop.id, sleep_in_allowance_pence=9000))
    for band, pence in ((AreaBand.urban, 1300), (AreaBand.rural, 1350), (AreaBand.very_rural, 1400)):
        if db.session.scalar(sa.select(CoopPayRate.id).where(CoopPayRate.cooperative_id == coop.id,
                                                             CoopPayRate.area_band == band)) is None:
            db.session.add(CoopPayRate(cooperative_id=coop.id, area_band=band, effective_from=date(2026, 4, 1),
                                       hourly_rate_pence=pence, night_enhancement_pence=100,
                                       bank_holiday_enhancement_pence=650))
    now = utcnow()
    for key, funders in FUNDERS.items():
        leader = people.get(key)
        team = leader and db.session.scalar(sa.select(Team).where(Team.cooperative_id == coop.id,
                                                                  Team.leader_id == leader.id))
        if team is None:
            continue
        if db.session.scalar(sa.select(Funder.id).where(Funder.team_id == team.id)) is None:
            db.session.add_all([Funder(team_id=team.id, kind=k, name=n, share_percent=s) for k, n, s in funders])
        workers = team_worker_ids(team.id)
        if not workers or db.session.scalar(sa.select(TimesheetEntry.id).where(
                TimesheetEntry.team_id == team.id, TimesheetEntry.note == DEMO_NOTE)):
            continue
        tz = ZoneInfo(team.zone)
        today = now.astimezone(tz).date()
        for days, hour, hours, status in ENTRIES:
            start = datetime.combine(today - timedelta(days=days), time(hour), tz)
            entry = TimesheetEntry(team_id=team.id, person_id=workers[0], status=status, started_at=start,
                                   ended_at=start + timedelta(hours=hours), travel_minutes=15, note=DEMO_NOTE)
            if status != TimesheetStatus.pending:
                entry.submitted_at = entry.ended_at + timedelta(hours=1)
            if status == TimesheetStatus.confirmed:
                entry.confirmed_at, entry.confirmed_by_id = entry.ended_at + timedelta(hours=5), leader.id
            db.session.add(entry)
            db.session.flush()
            # Its history, as the pages would have written it.
            history.record(entry, EntryEventKind.logged, entry.ended_at, entry.person_id, "worker",
                           after=history.figures(entry))
            if entry.submitted_at:
                history.record(entry, EntryEventKind.submitted, entry.submitted_at, entry.person_id, "worker")
            if entry.confirmed_at:
                history.record(entry, EntryEventKind.confirmed, entry.confirmed_at, leader.id, "checker")
    db.session.flush()
    _last_month_paid(coop, people, now)


def _last_month_paid(coop: Cooperative, people: dict[str, Person], now) -> None:
    """Last month's confirmed visits (Wendy's where she works) and the run that paid them,
    made by the demo's facilitator (without one, nobody would make the run: none of it)."""
    facilitator = people.get("fran")
    if facilitator is None:
        return
    first_of_this = now.astimezone(ZoneInfo(coop.timezone)).date().replace(day=1)
    last_month = (first_of_this - timedelta(days=1)).replace(day=1)
    wendy = people.get("wendy")
    for key in FUNDERS:
        leader = people.get(key)
        team = leader and db.session.scalar(sa.select(Team).where(Team.cooperative_id == coop.id,
                                                                  Team.leader_id == leader.id))
        workers = team_worker_ids(team.id) if team else []
        if not workers or db.session.scalar(sa.select(TimesheetEntry.id).where(
                TimesheetEntry.team_id == team.id, TimesheetEntry.note == PAID_NOTE)):
            continue
        worker_id = wendy.id if wendy and wendy.id in workers else workers[0]
        tz = ZoneInfo(team.zone)
        for day, hour, minutes, travel, miles in LAST_MONTH:
            start = datetime.combine(last_month.replace(day=day), time(hour), tz)
            end = start + timedelta(minutes=minutes)
            db.session.add(TimesheetEntry(
                team_id=team.id, person_id=worker_id, status=TimesheetStatus.confirmed, started_at=start,
                ended_at=end, travel_minutes=travel, mileage=Decimal(miles), note=PAID_NOTE,
                submitted_at=end + timedelta(hours=1), confirmed_at=end + timedelta(hours=5),
                confirmed_by_id=leader.id))
    db.session.flush()
    # Made once: asking again for a closed period returns the same run.
    close_run(actor_for(facilitator), coop.id, last_month, now)


DEMO_STEPS.append(seed_hours)
