"""The demo co-op: people in every class and role, created idempotently.

Run by `flask --app careteams seed-demo` (and `scripts/demo`). Each domain adds
its own demo data through `DEMO_STEPS`, so the seed grows with the product.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa

from careteams import delivery
from careteams.auth.passwords import hash_password
from careteams.auth.second_factor import enrol_with_secret
from careteams.domains import DOMAINS, domain_modules, domain_of
from careteams.extensions import db
from careteams.members import services as members
from careteams.members.models import (
    ContactChannel,
    Cooperative,
    MemberClass,
    Membership,
    MembershipStatus,
    Person,
    StaffRole,
    StaffRoleName,
)

DEMO_SLUG = "valley-care"
DEMO_PASSWORD = "demo-password-1"  # noqa: S105  (a published demo login, not a secret)

# (key, name, email, phone, member class or None, staff roles, label)
PEOPLE = [
    ("ann", "Ann Baker", "ann@demo.careteams.example", "+447700900101", MemberClass.supported, [], "Supported member (Ann)"),
    ("bill", "Bill Carter", "bill@demo.careteams.example", "+447700900102", MemberClass.supported, [], "Supported member (Bill)"),
    ("cath", "Cath Doyle", "cath@demo.careteams.example", "+447700900103", MemberClass.supported, [], "Supported member (Cath)"),
    ("dana", "Dana Baker", "dana@demo.careteams.example", "+447700900104", MemberClass.advocate, [], "Advocate (Ann's daughter)"),
    ("eric", "Eric Carter", "eric@demo.careteams.example", "+447700900105", MemberClass.advocate, [], "Advocate (Bill's son)"),
    ("wendy", "Wendy Ali", "wendy@demo.careteams.example", "+447700900123", MemberClass.worker, [], "Worker (Wendy)"),
    ("will", "Will Evans", "will@demo.careteams.example", "+447700900124", MemberClass.worker, [], "Worker (Will)"),
    ("xena", "Xena Ford", "xena@demo.careteams.example", "+447700900125", MemberClass.worker, [], "Worker (Xena)"),
    ("yusuf", "Yusuf Green", "yusuf@demo.careteams.example", "+447700900126", MemberClass.worker, [], "Worker (Yusuf)"),
    ("zoe", "Zoe Hill", "zoe@demo.careteams.example", "+447700900127", MemberClass.worker, [], "Worker (Zoe)"),
    ("omar", "Omar Iqbal", "omar@demo.careteams.example", "+447700900128", MemberClass.worker, [], "Worker (Omar)"),
    ("priya", "Priya Jones", "priya@demo.careteams.example", "+447700900129", MemberClass.worker, [], "Worker (Priya)"),
    ("quinn", "Quinn King", "quinn@demo.careteams.example", "+447700900130", MemberClass.worker, [], "Worker (Quinn)"),
    ("ivan", "Ivan Lewis", "ivan@demo.careteams.example", "+447700900131", MemberClass.investor, [], "Investor (Ivan)"),
    ("iris", "Iris Moore", "iris@demo.careteams.example", "+447700900132", MemberClass.investor, [], "Investor (Iris)"),
    ("fran", "Fran Nash", "fran@demo.careteams.example", "+447700900140", None, [StaffRoleName.facilitator], "Facilitator"),
    ("sam", "Sam Owen", "sam@demo.careteams.example", "+447700900141", None, [StaffRoleName.secretary], "Secretary"),
    ("alex", "Alex Price", "alex@demo.careteams.example", "+447700900142", None, [StaffRoleName.admin], "Co-op admin"),
]

# Staff need a second factor (TOTP). The demo's staff have these published secrets,
# printed by `flask seed-demo` / scripts/demo: add one to an authenticator app (or
# compute codes with pyotp) to sign in. Never use them outside the demo.
DEMO_TOTP_SECRETS = {
    "fran": "FRANDEMOFRANDEMOFRANDEMOFRANDEMO",
    "sam": "SAMDEMOSAMDEMOSAMDEMOSAMDEMOSAM2",
    "alex": "ALEXDEMOALEXDEMOALEXDEMOALEXDEMO",
}

# Later domains append functions f(coop, people_by_key) that add their demo data
# idempotently (teams, rotas, votes...).
DEMO_STEPS: list[Callable[[Cooperative, dict[str, Person]], None]] = []


def seed() -> dict:
    """Create or refresh the demo co-op; return the logins to print."""
    domain_modules("demo")  # each registers its steps in DEMO_STEPS

    coop = db.session.scalar(sa.select(Cooperative).where(Cooperative.slug == DEMO_SLUG))
    if coop is None:
        coop = members.create_cooperative("Valley Care Co-op (demo)", DEMO_SLUG, sms_number="+447700900000")
    password_hash = hash_password(DEMO_PASSWORD)
    people: dict[str, Person] = {}
    logins = []
    totp_secrets: dict[str, str] = {}
    for key, name, email, phone, member_class, roles, label in PEOPLE:
        person = db.session.scalar(sa.select(Person).where(Person.email == email))
        if person is None:
            person = members.create_person(name, email, phone, preferred_channel=ContactChannel.sms)
        person.password_hash = password_hash  # the demo always logs in with the printed password
        person.active = True
        people[key] = person
        if member_class is not None:
            exists = db.session.scalar(sa.select(Membership.id).where(
                Membership.cooperative_id == coop.id, Membership.person_id == person.id))
            if not exists:
                members.add_membership(None, coop, person, member_class, MembershipStatus.active)
        for role in roles:
            exists = db.session.scalar(sa.select(StaffRole.id).where(
                StaffRole.cooperative_id == coop.id, StaffRole.person_id == person.id, StaffRole.role == role))
            if not exists:
                members.grant_staff_role(None, coop, person, role)
        if roles:
            enrol_with_secret(person, DEMO_TOTP_SECRETS[key])
            totp_secrets[email] = DEMO_TOTP_SECRETS[key]
        logins.append((label, email))
    db.session.flush()
    def domain_order(step) -> int:
        # Steps run in DOMAINS order (teams before matching before rota...),
        # whatever order their modules happened to be imported in.
        domain = domain_of(step.__module__)
        return DOMAINS.index(domain) if domain else len(DOMAINS)

    with delivery.quiet():  # the seed runs real flows; nobody should be texted about them
        for step in sorted(DEMO_STEPS, key=domain_order):
            step(coop, people)
    db.session.commit()
    return {"password": DEMO_PASSWORD, "people": logins, "cooperative": coop.slug, "totp_secrets": totp_secrets}
