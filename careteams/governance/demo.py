"""Demo votes: one resolution open now, one closed with its published results.

Idempotent: each is made once, found by its title afterwards.
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from careteams.db import utcnow
from careteams.demo import DEMO_STEPS
from careteams.extensions import db
from careteams.governance.models import Resolution
from careteams.governance.services import ballots, resolutions, results, tellers
from careteams.members import services as members
from careteams.members.models import ContactChannel, Cooperative, MemberClass, Person
from careteams.members.services import actor_for

OPEN_TITLE = "Pay travel time between visits at the full hourly rate"
CLOSED_TITLE = "Adopt the 2026 rules on worker-set rates"

# person key -> choice ("for", "against" or None to abstain)
CLOSED_VOTES = {
    "ann": "for", "bill": "for", "cath": "for", "wendy": "for", "will": "for", "xena": "for",
    "yusuf": "against", "zoe": "against", "omar": "against", "priya": "against",
    "ivan": "against", "iris": "against", "dana": None,
}
# A few have already voted on the open one; the rest (Wendy among them) can try it.
OPEN_VOTES = {"bill": "for", "xena": "for", "ivan": "against"}
# The tellers: the secretary and two scrutineers; any two of their three shares open the count.
TELLERS = ("sam", "quinn", "zoe")
TELLERS_NOTE = ("The open demo vote's tellers are Sam (secretary), Quinn and Zoe: each logs in and collects "
                "her share once from the vote's page. After the close, two of them open the count on its "
                "\"open the count\" page (or: flask --app careteams governance open-count ID).")


def _exists(coop: Cooperative, title: str) -> bool:
    return db.session.scalar(sa.select(Resolution.id).where(
        Resolution.cooperative_id == coop.id, Resolution.title == title)) is not None


def _votes(coop: Cooperative, resolution: Resolution, people: dict[str, Person], votes: dict, now) -> None:
    keys = {o.key: o.id for o in resolution.options}
    for key, choice in votes.items():
        ballots.cast_ballot(actor_for(people[key]), coop, resolution, keys[choice] if choice else None, now=now)


def _tellers(coop: Cooperative, resolution: Resolution, people: dict[str, Person]) -> None:
    secretary, *scrutineers = (people[key].id for key in TELLERS)
    tellers.set_up_tellers(coop, resolution, secretary, scrutineers, 2)


def seed_votes(coop: Cooperative, people: dict[str, Person]) -> None:
    now = utcnow()
    if not _exists(coop, CLOSED_TITLE):
        opens = now - timedelta(days=21)
        closed = resolutions.create_resolution(None, coop, {
            "title": CLOSED_TITLE, "kind": "ordinary", "opens_at": opens, "closes_at": now - timedelta(days=7),
            "text": "That independent worker members set their own hourly rates within the bands "
                    "the co-op publishes each April, and that the co-op's contribution stays as it is.",
        })
        _tellers(coop, closed, people)
        resolutions.start_voting(closed.id, opens, tell=False)
        db.session.refresh(closed)
        _votes(coop, closed, people, CLOSED_VOTES, opens + timedelta(days=2))
        results.close_resolution(closed.id, closed.closes_at, tell=False)
        # Two of the three tellers opened the count when it closed.
        shares = [tellers.take_my_share(actor_for(people[key]), coop, closed, closed.closes_at)
                  for key in TELLERS[:2]]
        tellers.open_count(None, coop, closed, shares, closed.closes_at, tell=False)
    if not _exists(coop, OPEN_TITLE):
        opens = now - timedelta(days=1)
        open_ = resolutions.create_resolution(None, coop, {
            "title": OPEN_TITLE, "kind": "extraordinary", "opens_at": opens, "closes_at": now + timedelta(days=14),
            "text": "That travel time between visits is paid at each worker's full hourly rate, "
                    "funded from the co-op's contribution.",
        })
        # Each teller sees her share once, on the vote's "Your teller's share" page.
        _tellers(coop, open_, people)
        resolutions.start_voting(open_.id, opens, tell=False)
        db.session.refresh(open_)
        _votes(coop, open_, people, OPEN_VOTES, now)
    db.session.flush()


DEMO_STEPS.append(seed_votes)


# One application waiting in the register for the secretary (or an admin) to admit on
# the web (issue 18). She has no login: applying is done on paper or by email.
APPLICANT = ("Hana Patel", "hana@demo.careteams.example", "+447700900133")


def seed_applicant(coop: Cooperative, people: dict[str, Person]) -> None:
    name, email, phone = APPLICANT
    if db.session.scalar(sa.select(Person.id).where(Person.email == email)) is None:
        person = members.create_person(name, email, phone, preferred_channel=ContactChannel.sms)
        members.add_membership(None, coop, person, MemberClass.worker)  # an applicant until admitted
    db.session.flush()


DEMO_STEPS.append(seed_applicant)
