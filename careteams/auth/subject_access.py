"""What the co-op holds about a person: the UK GDPR right of access (My account, "Your data").

The rule: every table with a column that references person.id is walked, and the
rows naming the person are in the download, unless the table is in EXCLUDED with a
written reason. Each table is listed in COVERED, saying in plain words what it is
and which of its person columns make a row *about* the person (SUBJECT: the whole
row, less HIDDEN columns) and which only record that the person *did* something
(ACTOR: the row's id, its links, when it was done, and the column naming her: a
leader who confirmed a worker's timesheet gets "you confirmed entry 12 at ...",
not the worker's hours; a worker who typed a team's key-safe code does not get the
supported member's private details). Rows found only through another table are in
THROUGH (her membership's history, her team's support plan), rows found by her
phone number or email address in BY_CONTACT (texts and emails sent to her).

`uncovered()` names every table that references a person and is neither covered
nor excluded, or has a person column that is neither SUBJECT nor ACTOR: a test
asserts it is empty, so a new table or column naming a person fails the suite
until someone decides here what the person gets of it.

Secrets never leave: any column ending in "_hash", and the HIDDEN columns.
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import enum
import io
import json
from collections.abc import Mapping
from dataclasses import dataclass

import sqlalchemy as sa

import careteams.models  # noqa: F401  (every domain's tables in the metadata, for the walk)
from careteams.db import utcnow
from careteams.extensions import db
from careteams.members.models import Person


@dataclass(frozen=True)
class Cover:
    about: str  # plain words for the statement
    subject: tuple[str, ...] = ("person_id",)  # a row naming her here is about her: all of it
    actor: tuple[str, ...] = ()  # a row naming her here records what she did: a minimal record


@dataclass(frozen=True)
class Through:
    """Rows of a table found through another table that names the person:
    rows whose `link` column points to a `parent` row whose `parent_person` is her."""

    about: str
    link: str
    parent: str
    parent_person: str


@dataclass(frozen=True)
class ByContact:
    """Rows found by her current phone number or email address (`contact`: "phone" or "email")."""

    about: str
    column: str
    contact: str


COVERED: dict[str, Cover] = {
    "api_token": Cover("Your API tokens: their names, when they were made, last used and end (never the token itself)."),
    "contact_change": Cover("A new email address or mobile number waiting for its code (never the code)."),
    "equality_data": Cover("The equality monitoring answers you chose to give."),
    "inbound_message": Cover("Texts you sent to the co-op's number."),
    "login_session": Cover("Your sign-ins: which browser and system, when they started and were last used."),
    "membership": Cover("Your membership of the co-op: class, status, dates, share."),
    "one_time_link": Cover("Invitation and password reset links sent to you (never the link itself), "
                           "and links you had sent to others.", actor=("created_by_id",)),
    "outbound_message": Cover("Texts the co-op sent or tried to send you."),
    "pay_run": Cover("Pay runs you created.", subject=(), actor=("created_by_id",)),
    "resolution": Cover("Resolutions you put to the members.", subject=(), actor=("created_by_person_id",)),
    "sms_opt_out": Cover("Your STOP requests for texts."),
    "staff_role": Cover("Your roles working for the co-op."),
    "totp_factor": Cover("Your authenticator app for staff sign-in: when it was set up (never its secret)."),
    "recovery_code": Cover("Your second factor's recovery codes: when made and used (never the codes)."),
    "second_factor_reset": Cover("Resets of your second factor, and resets you made for other staff.",
                                 actor=("reset_by_id",)),
    "team": Cover("The team you lead, and teams you set up.", subject=("leader_id",), actor=("created_by_id",)),
    "web_notice": Cover("Notices shown to you on the website."),
    "worker_profile": Cover("Your worker profile: employment, rate, languages, interests, postcode and area, travel, availability."),
    "arranger": Cover("Where you arrange care for someone, and appointments of arrangers you made, agreed or ended.",
                      actor=("appointed_by_id", "agreed_by_id", "ended_by_id")),
    "calendar_feed": Cover("Your calendar feeds (never their secret address)."),
    "hat": Cover("Your hats (roles in a team's circle), and hats you offered.", actor=("offered_by_id",)),
    "membership_event": Cover("Changes you made to the register.", subject=(), actor=("by_person_id",)),
    "plan_suggestion": Cover("Suggestions you made to a support plan, and ones you answered.",
                             subject=("author_id",), actor=("answered_by_id",)),
    "shift_series": Cover("Recurring visits you set up.", subject=(), actor=("created_by_id",)),
    "support_plan_version": Cover("Versions of a support plan you wrote.", subject=(), actor=("author_id",)),
    "team_audit_entry": Cover("Changes you made in a team (what was changed is in the team's own history).",
                              subject=(), actor=("actor_id",)),
    "team_member": Cover("Your places in teams, and people you invited or whose place you ended.",
                         actor=("invited_by_id", "ended_by_id")),
    "team_private_details": Cover("Times you updated a team's private details (the details are the team's).",
                                  subject=(), actor=("updated_by_id",)),
    "vacancy": Cover("Vacancies you posted.", subject=(), actor=("posted_by_id",)),
    "worker_check": Cover("Checks you recorded for workers.", subject=(), actor=("recorded_by_id",)),
    "worker_rate": Cover("Your pay rates."),
    "match": Cover("Your matches with teams, and matches you held, reviewed or answered for a team.",
                   subject=("worker_id",), actor=("held_by_id", "reviewed_by_id", "team_answered_by_id")),
    "shift": Cover("Visits you were booked for, and visits you agreed or cancelled.",
                   subject=("booked_person_id",), actor=("outside_consent_by_id", "cancelled_by_id")),
    "suggestion": Cover("Vacancies suggested to you, and when you first saw them."),
    "match_shift": Cover("Trial or introduction visits you recorded.", subject=(), actor=("recorded_by_id",)),
    "matching_notification": Cover("Notifications about matches sent to you."),
    "offer": Cover("Visits offered to you and your answers."),
    "shift_swap": Cover("Swaps of visits you asked for or were asked for, and ones you decided.",
                        subject=("requested_by_id", "partner_id"), actor=("decided_by_id",)),
    "timesheet_entry": Cover("Your hours: times, travel, mileage, notes, confirmations and disputes; and entries "
                             "you proposed, confirmed, disputed, settled or entered for others.",
                             actor=("proposed_by_id", "confirmed_by_id", "disputed_by_id", "resolved_by_id", "created_by_id")),
    "run_entry": Cover("Your hours in each pay run."),
    "resolution_teller": Cover("Votes where you were a teller, and when you saw and gave your share "
                               "(never the share itself)."),
    "timesheet_entry_event": Cover("Steps you took on hours entries (logged, confirmed, disputed, answered, settled).",
                                   subject=(), actor=("actor_id",)),
}

THROUGH: dict[str, tuple[Through, ...]] = {
    "membership_event": (Through("The history of your membership.", "membership_id", "membership", "person_id"),),
    "electorate_entry": (Through("Votes you could take part in, and whether you voted (never how).",
                                 "membership_id", "membership", "person_id"),),
    "proxy_appointment": (
        Through("Proxies you appointed.", "appointer_membership_id", "membership", "person_id"),
        Through("Where you were appointed proxy.", "proxy_membership_id", "membership", "person_id"),
    ),
    "availability_window": (Through("When you are available to work.", "worker_profile_id", "worker_profile", "person_id"),),
    "worker_skill": (Through("Your skills.", "worker_profile_id", "worker_profile", "person_id"),),
    "worker_check": (Through("Your checks (DBS, training, right to work).", "worker_profile_id", "worker_profile", "person_id"),),
    "timesheet_entry_event": (Through("The history of your hours: every step, and what was said in a dispute.",
                                      "entry_id", "timesheet_entry", "person_id"),),
    "run_line": (Through("The lines of your pay in each run.", "run_entry_id", "run_entry", "person_id"),),
    "team_private_details": (Through("Your team's private details (address, access, contacts).", "team_id", "team", "leader_id"),),
    "support_plan_version": (Through("Your support plan, every version.", "team_id", "team", "leader_id"),),
    "funder": (Through("Who pays for your care, and their shares.", "team_id", "team", "leader_id"),),
    "shift": (Through("Visits to you.", "team_id", "team", "leader_id"),),
}

BY_CONTACT: dict[str, tuple[ByContact, ...]] = {
    "outbound_message": (ByContact("Texts sent to your mobile number.", "to_number", "phone"),),
    "inbound_message": (ByContact("Texts from your mobile number.", "from_number", "phone"),),
    "sms_opt_out": (ByContact("STOP requests from your mobile number.", "phone", "phone"),),
    "outbound_email": (ByContact("Emails sent to your address (their text is erased once sent).", "to_address", "email"),),
}

EXCLUDED: dict[str, str] = {
    # Not in uncovered() (it names nobody) but said in the statement, so nobody wonders.
    "ballot": "Secret ballots name no voter and must never be linkable to one: not even we can tell which is yours.",
}

# Never in a download: secrets and internals (any column ending "_hash" is hidden too).
HIDDEN: dict[str, frozenset[str]] = {
    "person": frozenset({"password_hash", "session_version"}),
    "outbound_message": frozenset({"claim_token"}),
    "outbound_email": frozenset({"claim_token"}),
    "offer": frozenset({"code"}),  # a live offer's reply code accepts the visit
    # A teller's share of the key that opens a count, waiting for her to collect it once.
    "resolution_teller": frozenset({"waiting_share"}),
    "totp_factor": frozenset({"secret", "last_used_step"}),  # the secret would let anyone make her codes
}

STATEMENT = (
    "This is everything careteams holds about you. That is your account, your memberships and roles, "
    "your teams, your work and hours, and messages to and from you. It also lists what you did for others. "
    "For those it says only that you did it and when: the details belong to the people concerned. "
    "Passwords, codes and secret links are kept only as one-way fingerprints and are never shown. "
    "Secret ballots cannot be linked to you, by design. You can download it all as JSON or CSV. "
    "If anything is wrong, tell your co-op: you have the right to have it corrected."
)


def _person_columns(table: sa.Table) -> list[str]:
    return [c.name for c in table.columns if any(fk.column.table.name == "person" and fk.column.name == "id"
                                                 for fk in c.foreign_keys)]


def _tables() -> dict[str, sa.Table]:
    return dict(db.metadata.tables)


def uncovered(tables: Mapping[str, sa.Table] | None = None) -> list[str]:
    """Tables (or "table.column") naming a person that this module does not account for
    (in the app's models, or in `tables`)."""
    missing = []
    for name, table in sorted((tables if tables is not None else _tables()).items()):
        columns = _person_columns(table)
        if not columns or name in EXCLUDED or name == "person":
            continue
        cover = COVERED.get(name)
        if cover is None:
            missing.append(name)
            continue
        missing += [f"{name}.{c}" for c in columns if c not in cover.subject + cover.actor]
    return missing


def _hidden(table: str, column: str) -> bool:
    return column.endswith("_hash") or column in HIDDEN.get(table, frozenset())


def _value(value):
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    return value


def _row(table: sa.Table, row, columns=None) -> dict:
    return {c.name: _value(row._mapping[c]) for c in table.columns
            if not _hidden(table.name, c.name) and (columns is None or c.name in columns)}


def _when_columns(actor_column: str) -> set[str]:
    # "confirmed_by_id" -> confirmed_at / confirmed_on: when she did it.
    stem = actor_column.removesuffix("_id").removesuffix("_person").removesuffix("_by")
    return {f"{stem}_at", f"{stem}_on"}


def _actor_columns(table: sa.Table, actor_columns: tuple[str, ...]) -> set[str]:
    # Its id, its links to things other than people, the columns naming people who acted,
    # and when each acted (and when the row was made): nothing of what the row says.
    person = set(_person_columns(table))
    when = {"at", "created_at"}.union(*(_when_columns(c) for c in actor_columns))
    return {c.name for c in table.columns
            if c.primary_key or c.name in actor_columns or c.name in when
            or (c.foreign_keys and c.name not in person)}


def holdings(person: Person) -> dict[str, dict]:
    """{table: {"about": [...], "rows": [...]}} for every table holding something about `person`."""
    tables = _tables()
    found: dict[str, dict] = {}

    def add(name: str, about: str, rows: list[dict]) -> None:
        if not rows:
            return
        entry = found.setdefault(name, {"about": [], "rows": []})
        if about not in entry["about"]:
            entry["about"].append(about)
        seen = {json.dumps(r, sort_keys=True, default=str) for r in entry["rows"]}
        for r in rows:
            key = json.dumps(r, sort_keys=True, default=str)
            if key not in seen:
                entry["rows"].append(r)
                seen.add(key)

    person_table = tables["person"]
    me = db.session.execute(sa.select(person_table).where(person_table.c.id == person.id)).one()
    add("person", "Your account: name, email, mobile, how to reach you, when it was made.", [_row(person_table, me)])
    subject_ids: dict[str, set] = {}
    for name, cover in COVERED.items():
        table = tables[name]
        if cover.subject:
            condition = sa.or_(*(table.c[c] == person.id for c in cover.subject))
            rows = db.session.execute(sa.select(table).where(condition).order_by(*table.primary_key.columns)).all()
            add(name, cover.about, [_row(table, r) for r in rows])
            subject_ids[name] = {r._mapping[table.c.id] for r in rows} if "id" in table.c else set()
    for name, cover in COVERED.items():
        table = tables[name]
        if cover.actor:
            keep = _actor_columns(table, cover.actor)
            condition = sa.or_(*(table.c[c] == person.id for c in cover.actor))
            rows = db.session.execute(sa.select(table).where(condition).order_by(*table.primary_key.columns)).all()
            add(name, cover.about, [_row(table, r, keep) for r in rows
                                    if "id" not in table.c or r._mapping[table.c.id] not in subject_ids.get(name, set())])
    for name, throughs in THROUGH.items():
        table = tables[name]
        for through in throughs:
            parent = tables[through.parent]
            parents = sa.select(parent.c.id).where(parent.c[through.parent_person] == person.id)
            rows = db.session.execute(sa.select(table).where(table.c[through.link].in_(parents))
                                      .order_by(*table.primary_key.columns)).all()
            add(name, through.about, [_row(table, r) for r in rows])
    for name, by_contact in BY_CONTACT.items():
        table = tables[name]
        for rule in by_contact:
            value = getattr(person, rule.contact)
            if not value:
                continue
            # A row naming somebody else (the number's earlier owner) is theirs, not hers.
            theirs = [sa.or_(table.c[c].is_(None), table.c[c] == person.id) for c in _person_columns(table)]
            rows = db.session.execute(sa.select(table).where(table.c[rule.column] == value, *theirs)
                                      .order_by(*table.primary_key.columns)).all()
            add(name, rule.about, [_row(table, r) for r in rows])
    return found


def summary(person: Person) -> list[tuple[str, str, int]]:
    """(table, what it is in plain words, how many rows) for the page."""
    return [(name, " ".join(entry["about"]), len(entry["rows"])) for name, entry in holdings(person).items()]


def as_json(person: Person) -> str:
    """The whole download as JSON text."""
    return json.dumps({
        "generated_at": utcnow().isoformat(),
        "statement": STATEMENT,
        "not_included": EXCLUDED,
        "tables": holdings(person),
    }, indent=2, ensure_ascii=False, default=str)


def as_csv(person: Person) -> str:
    """The whole download as CSV: one line per value (table, row, column, value), so every
    table fits one sheet."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["table", "row", "column", "value"])
    for name, entry in holdings(person).items():
        for number, row in enumerate(entry["rows"], start=1):
            for column, value in row.items():
                text = json.dumps(value, ensure_ascii=False, default=str) if isinstance(value, dict | list) else value
                # A leading = + - @ would run as a formula in a spreadsheet.
                if isinstance(text, str) and text[:1] in ("=", "+", "-", "@"):
                    text = "'" + text
                writer.writerow([name, number, column, "" if text is None else text])
    return out.getvalue()
