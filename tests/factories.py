"""factory-boy factories: one per model, flushed into the test's transaction."""

from __future__ import annotations

import secrets
from datetime import date as _date

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
# Every staff person the factories make has a confirmed TOTP factor with this secret
# (tests.helpers.totp_code computes its codes; tests.helpers.login passes it).
TEST_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # noqa: S105  (a published test value)
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
    # Test co-ops have been going for years: their data (October 2026...) is inside
    # the business window however late the suite runs (members/rules.py).
    founded_on = _date(2020, 1, 1)


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

    @factory.post_generation
    def second_factor(self, create, extracted, **kwargs):
        """Staff need a second factor: enrolled with TEST_TOTP_SECRET unless second_factor=False."""
        if create and extracted is not False:
            from careteams.auth.second_factor import enrol_with_secret

            enrol_with_secret(self.person, TEST_TOTP_SECRET)


from careteams.auth.enums import SessionEnd  # noqa: E402
from careteams.auth.models import ApiToken, LinkPurpose, LoginSession, OneTimeLink  # noqa: E402
from careteams.db import utcnow  # noqa: E402


class ApiTokenFactory(BaseFactory):
    class Meta:
        model = ApiToken

    person = factory.SubFactory(PersonFactory)
    name = "test token"
    token_hash = factory.Sequence(lambda n: f"{n:064x}")
    prefix = "ct_test"
    expires_at = factory.LazyFunction(lambda: utcnow() + timedelta(days=90))


class LoginSessionFactory(BaseFactory):
    class Meta:
        model = LoginSession

    person = factory.SubFactory(PersonFactory)
    key_hash = factory.Sequence(lambda n: f"{n + 2 * 10**6:064x}")
    device = "Firefox on Linux"

    class Params:
        ended = factory.Trait(ended_at=factory.LazyFunction(utcnow), ended_reason=SessionEnd.logout)


from careteams.auth.models import RecoveryCode, SecondFactorReset, TotpFactor  # noqa: E402


class TotpFactorFactory(BaseFactory):
    class Meta:
        model = TotpFactor

    person = factory.SubFactory(PersonFactory)
    secret = TEST_TOTP_SECRET
    confirmed_at = factory.LazyFunction(utcnow)


class RecoveryCodeFactory(BaseFactory):
    class Meta:
        model = RecoveryCode

    person = factory.SubFactory(PersonFactory)
    code_hash = factory.Sequence(lambda n: f"{n + 3 * 10**6:064x}")


class SecondFactorResetFactory(BaseFactory):
    class Meta:
        model = SecondFactorReset

    cooperative = factory.SubFactory(CooperativeFactory)
    person = factory.SubFactory(PersonFactory)
    reset_by = factory.SubFactory(PersonFactory)


class OneTimeLinkFactory(BaseFactory):
    class Meta:
        model = OneTimeLink

    person = factory.SubFactory(PersonFactory)
    purpose = LinkPurpose.invite
    token_hash = factory.Sequence(lambda n: f"{n + 10**6:064x}")
    expires_at = factory.LazyFunction(lambda: utcnow().replace(year=utcnow().year + 1))


from careteams.auth.enums import ContactKind  # noqa: E402
from careteams.auth.models import ContactChange  # noqa: E402


class ContactChangeFactory(BaseFactory):
    """A new mobile waiting for its code (My account); the hash matches no code."""

    class Meta:
        model = ContactChange
        exclude = ("person",)

    person = factory.SubFactory(PersonFactory)
    person_id = factory.SelfAttribute("person.id")
    kind = ContactKind.phone
    new_value = factory.Sequence(lambda n: f"+4477009{(n + 70000) % 100000:05d}")
    code_hash = factory.Sequence(lambda n: f"{n + 3 * 10**6:064x}")
    expires_at = factory.LazyFunction(lambda: utcnow() + timedelta(minutes=15))


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
        exclude = ("cooperative",)  # HatType has no `cooperative` relationship, only the id

    cooperative = factory.SubFactory(CooperativeFactory)
    cooperative_id = factory.SelfAttribute("cooperative.id")
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
    appointed_at = factory.LazyFunction(utcnow)
    # Agreed by default, by a second facilitator of the co-op (issue 14); `proposed=True` for
    # a proposal that grants nothing yet.
    agreed_by_id = factory.LazyAttribute(lambda o: StaffRoleFactory(cooperative=o.team.cooperative).person_id)
    agreed_at = factory.LazyAttribute(lambda o: o.appointed_at)

    class Params:
        proposed = factory.Trait(agreed_by_id=None, agreed_at=None)


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


# --- matching: skills, worker profiles and checks, vacancies, matches -------------
# Models without a relationship to their parent take the parent object as an
# excluded parameter (e.g. `SkillFactory(cooperative=coop)`) and store its id, so a
# child can share its parent's co-op through `factory.SelfAttribute`.

from datetime import UTC, date, datetime, time  # noqa: E402
from decimal import Decimal  # noqa: E402

import sqlalchemy as sa  # noqa: E402

from careteams.matching.models import (  # noqa: E402
    AvailabilityWindow,
    CheckKind,
    EmploymentType,
    EqualityData,
    Match,
    MatchingSettings,
    MatchShift,
    MatchState,
    Notification,
    ReviewPrompt,
    Side,
    Skill,
    Suggestion,
    Vacancy,
    VacancyStatus,
    VacancyWindow,
    WorkerCheck,
    WorkerProfile,
)


def _today() -> date:
    return utcnow().date()


def _ensure_membership(cooperative_id: int, person: Person, member_class: MemberClass) -> Membership:
    """The person's membership of the co-op: the existing one, or a new active one."""
    existing = db.session.scalar(sa.select(Membership).where(
        Membership.cooperative_id == cooperative_id, Membership.person_id == person.id))
    if existing is not None:
        return existing
    return MembershipFactory(cooperative=db.session.get(Cooperative, cooperative_id), person=person,
                             member_class=member_class)


def _in_date_checks() -> list[WorkerCheck]:
    """Enhanced DBS and right to work, both in date today: the minimum to be suggested or offered shifts."""
    checked = _today() - timedelta(days=30)
    return [WorkerCheck(kind=CheckKind.enhanced_dbs, checked_on=checked, expires_on=checked + timedelta(days=3 * 365)),
            WorkerCheck(kind=CheckKind.right_to_work, checked_on=checked, expires_on=None)]


class MatchingSettingsFactory(BaseFactory):
    class Meta:
        model = MatchingSettings
        exclude = ("cooperative",)

    cooperative = factory.SubFactory(CooperativeFactory)
    cooperative_id = factory.SelfAttribute("cooperative.id")
    review_required = True
    introduction_stale_days = 14
    check_warning_days = 30
    required_training = factory.LazyFunction(list)


class SkillFactory(BaseFactory):
    class Meta:
        model = Skill
        exclude = ("cooperative",)

    cooperative = factory.SubFactory(CooperativeFactory)
    cooperative_id = factory.SelfAttribute("cooperative.id")
    name = factory.Sequence(lambda n: f"Skill {n}")
    active = True


class WorkerProfileFactory(BaseFactory):
    """An independent worker near Halifax, an active worker member of the co-op, with
    in-date DBS and right-to-work checks (pass `checks=[]` for none)."""

    class Meta:
        model = WorkerProfile
        exclude = ("cooperative",)

    cooperative = factory.SubFactory(CooperativeFactory)
    cooperative_id = factory.SelfAttribute("cooperative.id")
    person = factory.SubFactory(PersonFactory)
    employment_type = EmploymentType.independent
    hourly_rate_pence = 1500
    postcode = "HX7 7AB"  # the fixed geocoder's point for it (careteams/geo.py) is the one below
    latitude = 53.7
    longitude = -1.9
    travel_km = 15
    district = "HX7"
    languages = factory.LazyFunction(lambda: ["English"])
    interests = factory.LazyFunction(list)
    available = True

    class Params:
        employed = factory.Trait(employment_type=EmploymentType.employed, hourly_rate_pence=None)

    @factory.post_generation
    def worker_membership(obj, create, extracted, **kwargs):
        # Only worker members keep a profile (pass False to skip).
        if create and extracted is not False:
            _ensure_membership(obj.cooperative_id, obj.person, MemberClass.worker)

    @factory.post_generation
    def checks(obj, create, extracted, **kwargs):
        if not create:
            return
        obj.checks = _in_date_checks() if extracted is None else list(extracted)
        db.session.flush()

    @factory.post_generation
    def skills(obj, create, extracted, **kwargs):
        if create and extracted:
            obj.skills = list(extracted)
            db.session.flush()


class AvailabilityWindowFactory(BaseFactory):
    class Meta:
        model = AvailabilityWindow
        exclude = ("worker_profile",)

    worker_profile = factory.SubFactory(WorkerProfileFactory)
    worker_profile_id = factory.SelfAttribute("worker_profile.id")
    weekday = factory.Sequence(lambda n: n % 7)
    start_minute = 9 * 60
    end_minute = 12 * 60


class WorkerCheckFactory(BaseFactory):
    class Meta:
        model = WorkerCheck
        exclude = ("worker_profile",)

    worker_profile = factory.SubFactory(WorkerProfileFactory, checks=[])
    worker_profile_id = factory.SelfAttribute("worker_profile.id")
    kind = CheckKind.enhanced_dbs
    name = ""
    checked_on = factory.LazyFunction(lambda: _today() - timedelta(days=30))
    expires_on = factory.LazyAttribute(lambda o: o.checked_on + timedelta(days=3 * 365))


class EqualityDataFactory(BaseFactory):
    class Meta:
        model = EqualityData
        exclude = ("membership",)

    # Equality data is a worker member's own.
    membership = factory.SubFactory(MembershipFactory, member_class=MemberClass.worker)
    cooperative_id = factory.SelfAttribute("membership.cooperative_id")
    person_id = factory.SelfAttribute("membership.person_id")
    ethnicity = "prefer not to say"
    gender = "prefer not to say"
    age_band = "35-49"
    disability = "prefer not to say"


class VacancyFactory(BaseFactory):
    class Meta:
        model = Vacancy

    team = factory.SubFactory(TeamFactory)
    cooperative_id = factory.SelfAttribute("team.cooperative_id")
    status = VacancyStatus.open
    needs = "Help getting up and dressed on weekday mornings."
    what_matters = "Tea, the radio and a chat about the garden."
    languages = factory.LazyFunction(lambda: ["English"])
    interests = factory.LazyFunction(list)
    postcode = "HX7 7AB"  # the fixed geocoder's point for it (careteams/geo.py) is the one below
    latitude = 53.7
    longitude = -1.9
    district = "HX7"
    posted_by_id = factory.SelfAttribute("team.leader_id")


class VacancyWindowFactory(BaseFactory):
    class Meta:
        model = VacancyWindow
        exclude = ("vacancy",)

    vacancy = factory.SubFactory(VacancyFactory)
    vacancy_id = factory.SelfAttribute("vacancy.id")
    weekday = factory.Sequence(lambda n: n % 7)
    start_minute = 9 * 60
    end_minute = 12 * 60


class SuggestionFactory(BaseFactory):
    class Meta:
        model = Suggestion
        exclude = ("vacancy", "worker")

    vacancy = factory.SubFactory(VacancyFactory)
    vacancy_id = factory.SelfAttribute("vacancy.id")
    # A worker with a profile in the vacancy's co-op.
    worker = factory.SubFactory(WorkerProfileFactory, cooperative=factory.SelfAttribute("..vacancy.team.cooperative"))
    person_id = factory.SelfAttribute("worker.person_id")
    score = 80


class MatchFactory(BaseFactory):
    """The team side invited a worker (who has a profile in the vacancy's co-op) and
    waits for the answer. Traits: `asked` (the worker asked), `review` (both said yes),
    `trial` (approved, introduced, the worker in the team on trial)."""

    class Meta:
        model = Match

    vacancy = factory.SubFactory(VacancyFactory)
    team_id = factory.SelfAttribute("vacancy.team_id")
    cooperative_id = factory.SelfAttribute("vacancy.cooperative_id")
    worker = factory.SubFactory(PersonFactory)
    started_by = Side.team
    state = MatchState.invited
    team_said_yes = True
    worker_said_yes = None
    created_at = factory.LazyFunction(utcnow)

    class Params:
        asked = factory.Trait(started_by=Side.worker, state=MatchState.asked, team_said_yes=None, worker_said_yes=True)
        review = factory.Trait(state=MatchState.review, worker_said_yes=True,
                               mutual_at=factory.LazyAttribute(lambda o: o.created_at))
        trial = factory.Trait(
            state=MatchState.trial, worker_said_yes=True,
            mutual_at=factory.LazyAttribute(lambda o: o.created_at),
            approved_at=factory.LazyAttribute(lambda o: o.created_at),
            introduction_on=factory.LazyFunction(_today),
            joined_at=factory.LazyAttribute(lambda o: o.created_at),
            team_member_id=factory.LazyAttribute(
                lambda o: TeamMemberFactory(team=o.vacancy.team, person=o.worker, trial=True).id),
        )

    @factory.post_generation
    def worker_profile(obj, create, extracted, **kwargs):
        # The worker has a profile in the match's co-op (pass False to skip).
        if not create or extracted is False:
            return
        if db.session.scalar(sa.select(WorkerProfile.id).where(
                WorkerProfile.cooperative_id == obj.cooperative_id, WorkerProfile.person_id == obj.worker_id)) is None:
            WorkerProfileFactory(cooperative=obj.vacancy.team.cooperative, person=obj.worker)


class MatchShiftFactory(BaseFactory):
    class Meta:
        model = MatchShift
        exclude = ("match",)

    match = factory.SubFactory(MatchFactory, trial=True)
    match_id = factory.SelfAttribute("match.id")
    worked_on = factory.LazyFunction(_today)
    trial = factory.LazyAttribute(lambda o: o.match.state == MatchState.trial)
    recorded_by_id = factory.SelfAttribute("match.vacancy.team.leader_id")


class ReviewPromptFactory(BaseFactory):
    class Meta:
        model = ReviewPrompt
        exclude = ("match",)

    match = factory.SubFactory(MatchFactory, trial=True)
    match_id = factory.SelfAttribute("match.id")
    after_shift = 3  # the app asks after the 3rd and the 8th shift
    due_at = factory.LazyFunction(utcnow)


class NotificationFactory(BaseFactory):
    class Meta:
        model = Notification
        exclude = ("person",)

    person = factory.SubFactory(PersonFactory)
    person_id = factory.SelfAttribute("person.id")
    body = "There is news about a match on careteams. Log in to see it."


def _team_worker(team: Team) -> Person:
    """A new paid worker, active in the team, with a profile (and checks) in its co-op."""
    member = TeamMemberFactory(team=team)
    WorkerProfileFactory(cooperative=team.cooperative, person=member.person)
    return member.person


# --- rota: settings, series, shifts, offers, swaps, calendar feeds ---------------

from careteams.rota.models import (  # noqa: E402
    CalendarFeed,
    Offer,
    OfferStatus,
    RotaSettings,
    Shift,
    ShiftKind,
    ShiftSeries,
    ShiftStatus,
    ShiftSwap,
    SwapStatus,
)

# Factory shifts start 3 hours apart from here (and last an hour), so no two ever
# overlap: PostgreSQL refuses overlapping booked shifts for one worker. The anchor
# is fixed for the run, four weeks ahead of when the factories were imported.
_SHIFT_ANCHOR = datetime.combine(utcnow().date() + timedelta(days=28), time(9), tzinfo=UTC)


class RotaSettingsFactory(BaseFactory):
    class Meta:
        model = RotaSettings
        exclude = ("cooperative",)

    cooperative = factory.SubFactory(CooperativeFactory)
    cooperative_id = factory.SelfAttribute("cooperative.id")
    blocking_checks = factory.LazyFunction(list)


class ShiftSeriesFactory(BaseFactory):
    class Meta:
        model = ShiftSeries

    team = factory.SubFactory(TeamFactory)
    rrule = "FREQ=WEEKLY;BYDAY=MO"
    # The next Monday.
    first_date = factory.LazyFunction(lambda: _today() + timedelta(days=7 - _today().weekday()))
    start_time = time(9, 0)
    duration_minutes = 60
    kind = ShiftKind.practical_help
    required_skills = factory.LazyFunction(list)
    created_by_id = factory.SelfAttribute("team.leader_id")


class ShiftFactory(BaseFactory):
    """An open one-hour shift. Trait `booked`: booked to a new worker of the team."""

    class Meta:
        model = Shift

    team = factory.SubFactory(TeamFactory)
    starts_at = factory.Sequence(lambda n: _SHIFT_ANCHOR + timedelta(hours=3 * n))
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + timedelta(hours=1))
    kind = ShiftKind.practical_help
    required_skills = factory.LazyFunction(list)
    status = ShiftStatus.open

    class Params:
        booked = factory.Trait(
            status=ShiftStatus.booked,
            booked_person=factory.LazyAttribute(lambda o: _team_worker(o.team)),
            booked_at=factory.LazyFunction(utcnow),
        )


class OfferFactory(BaseFactory):
    class Meta:
        model = Offer
        exclude = ("person",)

    shift = factory.SubFactory(ShiftFactory, status=ShiftStatus.offered)
    person = factory.LazyAttribute(lambda o: _team_worker(o.shift.team))
    person_id = factory.SelfAttribute("person.id")
    code = factory.Sequence(lambda n: str(100 + n % 9900))  # 3-4 digits, as rules.new_code
    status = OfferStatus.open
    sent_at = factory.LazyFunction(utcnow)
    expires_at = factory.LazyAttribute(lambda o: o.sent_at + timedelta(minutes=120))


class ShiftSwapFactory(BaseFactory):
    """Two booked workers of one team propose to swap their (non-overlapping) shifts."""

    class Meta:
        model = ShiftSwap

    shift = factory.SubFactory(ShiftFactory, booked=True)
    other_shift = factory.SubFactory(ShiftFactory, booked=True, team=factory.SelfAttribute("..shift.team"))
    requested_by_id = factory.SelfAttribute("shift.booked_person_id")
    partner_id = factory.SelfAttribute("other_shift.booked_person_id")
    status = SwapStatus.proposed


class CalendarFeedFactory(BaseFactory):
    class Meta:
        model = CalendarFeed
        exclude = ("person",)

    person = factory.SubFactory(PersonFactory)
    person_id = factory.SelfAttribute("person.id")
    team_id = None
    token_hash = factory.Sequence(lambda n: f"{n + 2 * 10**6:064x}")


# --- sms: the outbox, inbound texts, opt-outs, web notices ------------------------

from careteams.sms.models import InboundMessage, OutboundMessage, SmsOptOut, WebNotice  # noqa: E402
from careteams.sms.rules import DeliveryStatus  # noqa: E402


class OutboundMessageFactory(BaseFactory):
    class Meta:
        model = OutboundMessage
        exclude = ("cooperative", "person")

    cooperative = factory.SubFactory(CooperativeFactory)
    person = factory.SubFactory(PersonFactory)
    cooperative_id = factory.SelfAttribute("cooperative.id")
    person_id = factory.SelfAttribute("person.id")
    to_number = factory.SelfAttribute("person.phone")
    from_number = factory.SelfAttribute("cooperative.sms_number")
    body = "Hello from careteams."
    kind = "test"
    dedupe_key = factory.Sequence(lambda n: f"test:outbound:{n}")
    status = DeliveryStatus.pending


class InboundMessageFactory(BaseFactory):
    class Meta:
        model = InboundMessage
        exclude = ("cooperative", "person")

    cooperative = factory.SubFactory(CooperativeFactory)
    person = factory.SubFactory(PersonFactory)
    message_sid = factory.Sequence(lambda n: f"SM{n:032x}")  # Twilio's form: SM + 32 hex digits
    cooperative_id = factory.SelfAttribute("cooperative.id")
    person_id = factory.SelfAttribute("person.id")
    from_number = factory.SelfAttribute("person.phone")
    to_number = factory.SelfAttribute("cooperative.sms_number")
    body = "HELP"


class SmsOptOutFactory(BaseFactory):
    class Meta:
        model = SmsOptOut
        exclude = ("cooperative", "person")

    cooperative = factory.SubFactory(CooperativeFactory)
    person = factory.SubFactory(PersonFactory)
    phone = factory.SelfAttribute("person.phone")
    person_id = factory.SelfAttribute("person.id")
    cooperative_id = factory.SelfAttribute("cooperative.id")
    keyword = "STOP"


class WebNoticeFactory(BaseFactory):
    class Meta:
        model = WebNotice
        exclude = ("cooperative", "person")

    cooperative = factory.SubFactory(CooperativeFactory)
    person = factory.SubFactory(PersonFactory)
    person_id = factory.SelfAttribute("person.id")
    cooperative_id = factory.SelfAttribute("cooperative.id")
    kind = "test"
    body = "A notice for you on careteams."
    dedupe_key = factory.Sequence(lambda n: f"test:notice:{n}")


# --- hours: pay settings and rates, funders, timesheets, pay runs ------------------

from careteams.hours.enums import EntryEventKind  # noqa: E402
from careteams.hours.models import (  # noqa: E402
    AreaBand,
    CoopPayRate,
    Funder,
    FunderKind,
    HoursSettings,
    PayRun,
    RunEntry,
    RunHeldBack,
    RunInvoiceLine,
    RunLine,
    TeamHoursTerms,
    TimesheetEntry,
    TimesheetEntryEvent,
    WorkerRate,
)
from careteams.hours.rules import EntryKind, Frequency, TimesheetStatus  # noqa: E402

# Rates are above the National Living Wage in config/minimum_wage.json (1271p from April 2026).
_RATE_FROM = date(2025, 4, 1)


class HoursSettingsFactory(BaseFactory):
    class Meta:
        model = HoursSettings
        exclude = ("cooperative",)

    cooperative = factory.SubFactory(CooperativeFactory)
    cooperative_id = factory.SelfAttribute("cooperative.id")


class CoopPayRateFactory(BaseFactory):
    class Meta:
        model = CoopPayRate
        exclude = ("cooperative",)

    cooperative = factory.SubFactory(CooperativeFactory)
    cooperative_id = factory.SelfAttribute("cooperative.id")
    area_band = AreaBand.urban
    effective_from = _RATE_FROM
    hourly_rate_pence = 1400


class WorkerRateFactory(BaseFactory):
    """An independent worker's usual rate (team_id None) from a date."""

    class Meta:
        model = WorkerRate
        exclude = ("worker",)

    worker = factory.SubFactory(WorkerProfileFactory)
    cooperative_id = factory.SelfAttribute("worker.cooperative_id")
    person_id = factory.SelfAttribute("worker.person_id")
    team_id = None
    effective_from = _RATE_FROM
    hourly_rate_pence = 1600


class TeamHoursTermsFactory(BaseFactory):
    class Meta:
        model = TeamHoursTerms
        exclude = ("team",)

    team = factory.SubFactory(TeamFactory)
    team_id = factory.SelfAttribute("team.id")
    area_band = AreaBand.urban


class FunderFactory(BaseFactory):
    class Meta:
        model = Funder
        exclude = ("team",)

    team = factory.SubFactory(TeamFactory)
    team_id = factory.SelfAttribute("team.id")
    kind = FunderKind.direct_payment
    name = factory.Sequence(lambda n: f"Direct payment {n}")
    share_percent = 100
    active = True


class TimesheetEntryFactory(BaseFactory):
    """A pending two-hour visit two days ago by a worker of the team.
    Traits: `submitted`, `confirmed` (by the team's leader)."""

    class Meta:
        model = TimesheetEntry

    team = factory.SubFactory(TeamFactory)
    person = factory.LazyAttribute(lambda o: _team_worker(o.team))
    kind = EntryKind.visit
    status = TimesheetStatus.pending
    started_at = factory.LazyFunction(lambda: (utcnow() - timedelta(days=2)).replace(minute=0, second=0, microsecond=0))
    ended_at = factory.LazyAttribute(lambda o: o.started_at + timedelta(hours=2))
    mileage = Decimal("0")
    note = ""

    class Params:
        submitted = factory.Trait(status=TimesheetStatus.submitted, submitted_at=factory.SelfAttribute("ended_at"))
        confirmed = factory.Trait(
            status=TimesheetStatus.confirmed,
            submitted_at=factory.SelfAttribute("ended_at"),
            confirmed_at=factory.LazyAttribute(lambda o: o.ended_at + timedelta(hours=1)),
            confirmed_by_id=factory.SelfAttribute("team.leader_id"),
        )



class TimesheetEntryEventFactory(BaseFactory):
    """A step in an entry's history: the worker logged it (services write these; tests rarely need one)."""

    class Meta:
        model = TimesheetEntryEvent

    class Params:
        entry = factory.SubFactory(TimesheetEntryFactory)

    entry_id = factory.SelfAttribute("entry.id")
    at = factory.LazyAttribute(lambda o: o.entry.ended_at)
    actor = factory.SelfAttribute("entry.person")
    role = "worker"
    kind = EntryEventKind.logged

def _month(n: int) -> date:
    return date(2020 + n // 12, n % 12 + 1, 1)


class PayRunFactory(BaseFactory):
    """A closed monthly run; each factory run has its own month (from January 2020)."""

    class Meta:
        model = PayRun
        exclude = ("cooperative", "month")

    cooperative = factory.SubFactory(CooperativeFactory)
    cooperative_id = factory.SelfAttribute("cooperative.id")
    month = factory.Sequence(lambda n: n)
    frequency = Frequency.monthly
    period_start = factory.LazyAttribute(lambda o: _month(o.month))
    period_end = factory.LazyAttribute(lambda o: _month(o.month + 1))


class RunEntryFactory(BaseFactory):
    """A confirmed entry of a team in the run's co-op, counted in the run."""

    class Meta:
        model = RunEntry
        exclude = ("cooperative", "run", "entry")

    cooperative = factory.SubFactory(CooperativeFactory)
    run = factory.SubFactory(PayRunFactory, cooperative=factory.SelfAttribute("..cooperative"))
    entry = factory.SubFactory(TimesheetEntryFactory, confirmed=True,
                               team__cooperative=factory.SelfAttribute("...cooperative"))
    run_id = factory.SelfAttribute("run.id")
    entry_id = factory.SelfAttribute("entry.id")
    person_id = factory.SelfAttribute("entry.person_id")
    team_id = factory.SelfAttribute("entry.team_id")
    employed = False
    working_minutes = factory.LazyAttribute(
        lambda o: int((o.entry.ended_at - o.entry.started_at).total_seconds() // 60) - o.entry.break_minutes)
    age_band = "21_and_over"


class RunLineFactory(BaseFactory):
    class Meta:
        model = RunLine

    run_entry = factory.SubFactory(RunEntryFactory)
    element = "hours"
    quantity = Decimal("2.0")
    rate_pence = 1600
    pay_pence = 3200
    charge_pence = 3760  # the co-op's default 17.5% on top
    wage_pay = True


class RunInvoiceLineFactory(BaseFactory):
    """A funder of the entry's team pays its whole charge."""

    class Meta:
        model = RunInvoiceLine
        exclude = ("funder",)

    run_entry = factory.SubFactory(RunEntryFactory)
    funder = factory.LazyAttribute(lambda o: FunderFactory(team=db.session.get(Team, o.run_entry.team_id)))
    funder_id = factory.SelfAttribute("funder.id")
    funder_name = factory.SelfAttribute("funder.name")
    funder_kind = factory.LazyAttribute(lambda o: o.funder.kind.value)
    share_percent = factory.SelfAttribute("funder.share_percent")
    amount_pence = 3760


class RunHeldBackFactory(BaseFactory):
    """A confirmed entry the run could not price."""

    class Meta:
        model = RunHeldBack
        exclude = ("cooperative", "run", "entry")

    cooperative = factory.SubFactory(CooperativeFactory)
    run = factory.SubFactory(PayRunFactory, cooperative=factory.SelfAttribute("..cooperative"))
    entry = factory.SubFactory(TimesheetEntryFactory, confirmed=True,
                               team__cooperative=factory.SelfAttribute("...cooperative"))
    run_id = factory.SelfAttribute("run.id")
    entry_id = factory.SelfAttribute("entry.id")
    reason = "no urban pay rate for 2026-10-08"


# --- governance: resolutions, electorate, ballots, proxies ------------------------

from careteams.governance.models import (  # noqa: E402
    Ballot,
    ElectorateEntry,
    ProxyAppointment,
    ProxyStatus,
    Resolution,
    ResolutionOption,
    ResolutionStatus,
    ResolutionTeller,
)
from careteams.governance.rules import ResolutionKind, Threshold, fixed_options  # noqa: E402
from careteams.governance.services.ballots import RECEIPT_ALPHABET  # noqa: E402


def _receipt(n: int) -> str:
    """A distinct receipt per n, in the app's form (XXXX-XXXX-XXXX)."""
    chars = []
    for _ in range(12):
        n, digit = divmod(n, len(RECEIPT_ALPHABET))
        chars.append(RECEIPT_ALPHABET[digit])
    raw = "".join(chars)
    return "-".join(raw[i:i + 4] for i in range(0, 12, 4))


class ResolutionFactory(BaseFactory):
    """A draft ordinary resolution (with its For and Against options) set by the
    co-op's secretary, opening tomorrow for a fortnight. Trait `opened`: voting is open.
    `options`: labels for a poll's options; False for no options at all."""

    class Meta:
        model = Resolution
        exclude = ("cooperative",)

    cooperative = factory.SubFactory(CooperativeFactory)
    cooperative_id = factory.SelfAttribute("cooperative.id")
    title = factory.Sequence(lambda n: f"Resolution {n}")
    text = "That the co-op adopts the new rules."
    kind = ResolutionKind.ordinary
    threshold = Threshold.at_least
    conversion = False
    status = ResolutionStatus.draft
    opens_at = factory.LazyFunction(lambda: utcnow().replace(microsecond=0) + timedelta(days=1))
    closes_at = factory.LazyAttribute(lambda o: o.opens_at + timedelta(days=14))
    quorum_min_members = factory.SelfAttribute("cooperative.quorum_min_members")
    quorum_percent = factory.SelfAttribute("cooperative.quorum_percent")
    investor_cap_num = factory.SelfAttribute("cooperative.investor_cap_num")
    investor_cap_den = factory.SelfAttribute("cooperative.investor_cap_den")
    created_by_person_id = factory.LazyAttribute(
        lambda o: StaffRoleFactory(cooperative=o.cooperative, role=StaffRoleName.secretary).person_id)

    class Params:
        opened = factory.Trait(
            status=ResolutionStatus.open,
            opens_at=factory.LazyFunction(lambda: utcnow().replace(microsecond=0) - timedelta(hours=1)),
            opened_at=factory.SelfAttribute("opens_at"),
            # A key to seal ballots to (its one share is thrown away: such a vote is never counted).
            public_key=factory.LazyFunction(lambda: _ceremony().public_key),
            shares_needed=1,
        )

    @factory.post_generation
    def options(obj, create, extracted, **kwargs):
        if not create or extracted is False:
            return
        pairs = fixed_options(obj.kind) or [
            (str(n), label) for n, label in enumerate(extracted or ["Option one", "Option two"], start=1)]
        obj.options = [ResolutionOption(position=n, key=key, label=label)
                       for n, (key, label) in enumerate(pairs, start=1)]
        db.session.flush()


class ResolutionOptionFactory(BaseFactory):
    """An option of a poll (which has no other options unless given)."""

    class Meta:
        model = ResolutionOption

    resolution = factory.SubFactory(ResolutionFactory, kind=ResolutionKind.poll, options=False)
    position = factory.Sequence(lambda n: n + 1)
    key = factory.LazyAttribute(lambda o: str(o.position))
    label = factory.LazyAttribute(lambda o: f"Option {o.position}")


class ElectorateEntryFactory(BaseFactory):
    """A member of the co-op in the electorate of one of its open resolutions."""

    class Meta:
        model = ElectorateEntry
        exclude = ("cooperative", "resolution")

    cooperative = factory.SubFactory(CooperativeFactory)
    resolution = factory.SubFactory(ResolutionFactory, opened=True, cooperative=factory.SelfAttribute("..cooperative"))
    membership = factory.SubFactory(MembershipFactory, cooperative=factory.SelfAttribute("..cooperative"))
    resolution_id = factory.SelfAttribute("resolution.id")
    member_class = factory.SelfAttribute("membership.member_class")
    has_voted = False


def _ceremony():
    from careteams.governance import seal

    return seal.make_keys(1, 1)


class ResolutionTellerFactory(BaseFactory):
    """A teller of an open resolution who has already collected her share (none is stored)."""

    class Meta:
        model = ResolutionTeller
        exclude = ("resolution", "person")

    resolution = factory.SubFactory(ResolutionFactory, opened=True)
    resolution_id = factory.SelfAttribute("resolution.id")
    person = factory.SubFactory(PersonFactory)
    person_id = factory.SelfAttribute("person.id")
    share_index = factory.Sequence(lambda n: n % 16 + 1)
    share_seen_at = factory.LazyFunction(utcnow)


def _sealed_for(resolution) -> bytes:
    from careteams.governance import seal

    if resolution.public_key is None:
        return secrets.token_bytes(seal.SEALED_LENGTH)
    return seal.seal(resolution.public_key, resolution.options[0].key)


class BallotFactory(BaseFactory):
    """A ballot For an open resolution (no voter, by design)."""

    class Meta:
        model = Ballot
        exclude = ("resolution",)

    id = factory.Sequence(lambda n: f"{n:032x}")
    resolution = factory.SubFactory(ResolutionFactory, opened=True)
    resolution_id = factory.SelfAttribute("resolution.id")
    # Sealed For when the resolution has tellers' keys; otherwise opaque bytes of the sealed length.
    sealed = factory.LazyAttribute(lambda o: _sealed_for(o.resolution))
    member_class = MemberClass.worker
    receipt = factory.Sequence(_receipt)
    change_token_hash = factory.Sequence(lambda n: f"{n + 3 * 10**6:064x}")


class ProxyAppointmentFactory(BaseFactory):
    """One member appoints another as proxy on an open resolution of their co-op;
    both are in its electorate (pass `electorate=False` to skip that)."""

    class Meta:
        model = ProxyAppointment
        exclude = ("cooperative", "resolution")

    cooperative = factory.SubFactory(CooperativeFactory)
    resolution = factory.SubFactory(ResolutionFactory, opened=True, cooperative=factory.SelfAttribute("..cooperative"))
    resolution_id = factory.SelfAttribute("resolution.id")
    appointer = factory.SubFactory(MembershipFactory, cooperative=factory.SelfAttribute("..cooperative"))
    proxy = factory.SubFactory(MembershipFactory, cooperative=factory.SelfAttribute("..cooperative"))
    status = ProxyStatus.active

    @factory.post_generation
    def electorate(obj, create, extracted, **kwargs):
        if not create or extracted is False:
            return
        for membership in (obj.appointer, obj.proxy):
            if db.session.scalar(sa.select(ElectorateEntry.id).where(
                    ElectorateEntry.resolution_id == obj.resolution_id,
                    ElectorateEntry.membership_id == membership.id)) is None:
                db.session.add(ElectorateEntry(resolution_id=obj.resolution_id, membership_id=membership.id,
                                               member_class=membership.member_class))
        db.session.flush()


# --- mail -----------------------------------------------------------------------

from careteams.mail.enums import EmailStatus  # noqa: E402
from careteams.mail.models import OutboundEmail  # noqa: E402


class OutboundEmailFactory(BaseFactory):
    class Meta:
        model = OutboundEmail

    to_address = factory.Sequence(lambda n: f"someone{n}@example.org")
    subject = "A message from your co-op"
    body = "Hello from careteams."
    status = EmailStatus.pending


# --- places (careteams/geo.py) ---------------------------------------------------

from careteams.geo import PostcodePlace  # noqa: E402


class PostcodePlaceFactory(BaseFactory):
    """A postcode's point in the network geocoder's cache."""

    class Meta:
        model = PostcodePlace

    postcode = factory.Sequence(lambda n: f"LS{n % 30 + 1} {n % 10}AB")
    latitude = 53.8
    longitude = -1.55
    district = factory.LazyAttribute(lambda o: o.postcode.split(" ")[0])
    looked_up_at = factory.LazyFunction(utcnow)
