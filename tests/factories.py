"""factory-boy factories: one per model, flushed into the test's transaction."""

from __future__ import annotations

import factory
from factory.alchemy import SQLAlchemyModelFactory

from careteams.auth.passwords import hash_password
from careteams.extensions import db
from careteams.members.models import (
    ContactChannel,
    Cooperative,
    MemberClass,
    Membership,
    MembershipEvent,
    MembershipStatus,
    Person,
    StaffRole,
    StaffRoleName,
)

PASSWORD = "correct horse battery"
# Hashing with argon2 is deliberately slow; hash the test password once.
_PASSWORD_HASH = None


def _password_hash() -> str:
    global _PASSWORD_HASH
    if _PASSWORD_HASH is None:
        _PASSWORD_HASH = hash_password(PASSWORD)
    return _PASSWORD_HASH


class BaseFactory(SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731
        sqlalchemy_session_persistence = "flush"


class CooperativeFactory(BaseFactory):
    class Meta:
        model = Cooperative

    name = factory.Sequence(lambda n: f"Co-op {n}")
    slug = factory.Sequence(lambda n: f"coop-{n}")
    timezone = "Europe/London"
    sms_number = factory.Sequence(lambda n: f"+4477009{n % 100000:05d}")


class PersonFactory(BaseFactory):
    class Meta:
        model = Person

    name = factory.Faker("name", locale="en_GB")
    email = factory.Sequence(lambda n: f"person{n}@example.org")
    phone = factory.Sequence(lambda n: f"+4477009{(n + 50000) % 100000:05d}")
    password_hash = factory.LazyFunction(_password_hash)
    active = True
    preferred_channel = ContactChannel.sms


class MembershipFactory(BaseFactory):
    class Meta:
        model = Membership

    cooperative = factory.SubFactory(CooperativeFactory)
    person = factory.SubFactory(PersonFactory)
    member_class = MemberClass.worker
    status = MembershipStatus.active
    share_pence = 100

    class Params:
        applicant = factory.Trait(status=MembershipStatus.applicant)
        left = factory.Trait(status=MembershipStatus.left)


class MembershipEventFactory(BaseFactory):
    class Meta:
        model = MembershipEvent

    membership = factory.SubFactory(MembershipFactory)
    member_class = factory.SelfAttribute("membership.member_class")
    status = factory.SelfAttribute("membership.status")


class StaffRoleFactory(BaseFactory):
    class Meta:
        model = StaffRole

    cooperative = factory.SubFactory(CooperativeFactory)
    person = factory.SubFactory(PersonFactory)
    role = StaffRoleName.facilitator


from careteams.auth.models import ApiToken, LinkPurpose, OneTimeLink  # noqa: E402
from careteams.db import utcnow  # noqa: E402


class ApiTokenFactory(BaseFactory):
    class Meta:
        model = ApiToken

    person = factory.SubFactory(PersonFactory)
    name = "test token"
    token_hash = factory.Sequence(lambda n: f"{n:064x}")
    prefix = "ct_test"


class OneTimeLinkFactory(BaseFactory):
    class Meta:
        model = OneTimeLink

    person = factory.SubFactory(PersonFactory)
    purpose = LinkPurpose.invite
    token_hash = factory.Sequence(lambda n: f"{n + 10**6:064x}")
    expires_at = factory.LazyFunction(lambda: utcnow().replace(year=utcnow().year + 1))


# --- teams ----------------------------------------------------------------------

from datetime import timedelta  # noqa: E402

from careteams.teams.models import (  # noqa: E402
    Arranger,
    AuditEntry,
    Hat,
    HatStatus,
    HatType,
    PlanSuggestion,
    SupportPlanVersion,
    Team,
    TeamMember,
    TeamMemberStatus,
    TeamPrivateDetails,
    TeamRole,
)
from careteams.teams.rules import empty_plan  # noqa: E402


class TeamFactory(BaseFactory):
    class Meta:
        model = Team

    cooperative = factory.SubFactory(CooperativeFactory)
    leader = factory.SubFactory(PersonFactory)
    display_name = factory.LazyAttribute(lambda o: o.leader.first_name)
    postcode_district = "HD7"

    @factory.post_generation
    def supported_membership(obj, create, extracted, **kwargs):
        # A team's leader is a supported member of its co-op (pass False to skip).
        if extracted is False:
            return
        MembershipFactory(cooperative=obj.cooperative, person=obj.leader, member_class=MemberClass.supported)


class TeamMemberFactory(BaseFactory):
    class Meta:
        model = TeamMember

    team = factory.SubFactory(TeamFactory)
    person = factory.SubFactory(PersonFactory)
    role = TeamRole.paid_worker
    status = TeamMemberStatus.active
    accepted_at = factory.LazyFunction(utcnow)

    class Params:
        invited = factory.Trait(status=TeamMemberStatus.invited, accepted_at=None)
        trial = factory.Trait(status=TeamMemberStatus.trial)
        left = factory.Trait(status=TeamMemberStatus.left)
        family = factory.Trait(role=TeamRole.family)


class HatTypeFactory(BaseFactory):
    class Meta:
        model = HatType

    cooperative = factory.SubFactory(CooperativeFactory)
    name = factory.Sequence(lambda n: f"Hat {n}")
    description = ""
    permissions = factory.LazyFunction(lambda: ["invite_people"])


class HatFactory(BaseFactory):
    class Meta:
        model = Hat

    team = factory.SubFactory(TeamFactory)
    person = factory.SubFactory(PersonFactory)
    hat_type = factory.SubFactory(HatTypeFactory, cooperative=factory.SelfAttribute("..team.cooperative"))
    offered_by_id = factory.SelfAttribute("team.leader_id")
    status = HatStatus.accepted
    answered_at = factory.LazyFunction(utcnow)

    class Params:
        offered = factory.Trait(status=HatStatus.offered, answered_at=None)
        declined = factory.Trait(status=HatStatus.declined)
        withdrawn = factory.Trait(status=HatStatus.withdrawn, ended_at=factory.LazyFunction(utcnow))
        expired = factory.Trait(expires_at=factory.LazyFunction(lambda: utcnow() - timedelta(days=1)))


class ArrangerFactory(BaseFactory):
    class Meta:
        model = Arranger

    team = factory.SubFactory(TeamFactory)
    person = factory.SubFactory(PersonFactory)
    reason = "The leader is in hospital and cannot answer for now."
    appointed_by_id = factory.LazyAttribute(lambda o: StaffRoleFactory(cooperative=o.team.cooperative).person_id)


class TeamPrivateDetailsFactory(BaseFactory):
    class Meta:
        model = TeamPrivateDetails

    team_id = factory.LazyAttribute(lambda o: TeamFactory().id)
    address = "1 Test Street"
    access_notes = "Key safe 0000"
    emergency_contacts = "A neighbour"
    if_something_is_wrong = "Call the office"


class SupportPlanVersionFactory(BaseFactory):
    class Meta:
        model = SupportPlanVersion

    team_id = factory.LazyAttribute(lambda o: TeamFactory().id)
    number = 1
    sections = factory.LazyFunction(empty_plan)
    author_id = factory.LazyAttribute(lambda o: PersonFactory().id)
    on_behalf = "leader"


class PlanSuggestionFactory(BaseFactory):
    class Meta:
        model = PlanSuggestion

    team_id = factory.LazyAttribute(lambda o: TeamFactory().id)
    sections = factory.LazyFunction(lambda: {"routines": {"text": "Tea at four.", "shared_with_trial": False}})
    note = ""
    author_id = factory.LazyAttribute(lambda o: PersonFactory().id)


class AuditEntryFactory(BaseFactory):
    class Meta:
        model = AuditEntry

    team_id = factory.LazyAttribute(lambda o: TeamFactory().id)
    actor_id = factory.LazyAttribute(lambda o: PersonFactory().id)
    on_behalf = "leader"
    action = "team.updated"
    subject = factory.LazyAttribute(lambda o: f"team:{o.team_id}")


def make_worker_profile(person, cooperative_id: int, *, skills=(), dbs_expires=None, employment_type=None,
                        hourly_rate_pence: int = 1500, lat: float = 53.7, lon: float = -1.9):
    """A worker profile with valid enhanced DBS and right-to-work checks (the minimum
    for being offered shifts or suggested)."""
    from datetime import date

    import sqlalchemy as sa

    from careteams.matching.models import CheckKind, EmploymentType, WorkerCheck, WorkerProfile

    existing = db.session.scalar(sa.select(WorkerProfile).where(
        WorkerProfile.cooperative_id == cooperative_id, WorkerProfile.person_id == person.id))
    if existing is not None:
        return existing
    profile = WorkerProfile(cooperative_id=cooperative_id, person_id=person.id,
                            employment_type=employment_type or EmploymentType.independent,
                            hourly_rate_pence=hourly_rate_pence, latitude=lat, longitude=lon, travel_km=15,
                            languages=["English"], interests=[], district="HX7")
    profile.skills = list(skills)
    profile.checks = [
        WorkerCheck(kind=CheckKind.enhanced_dbs, checked_on=date(2024, 6, 1), expires_on=dbs_expires or date(2030, 1, 1)),
        WorkerCheck(kind=CheckKind.right_to_work, checked_on=date(2024, 6, 1), expires_on=None),
    ]
    db.session.add(profile)
    db.session.flush()
    return profile
