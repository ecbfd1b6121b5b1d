"""Staff's second factor: TOTP (pyotp) with ten one-time recovery codes. Flush only.

Anyone holding a staff role (facilitator, secretary, admin) must have a confirmed
factor and pass it in each login session before any staff page or API operation;
the gate (auth.pages.second_factor_gate) keys on LoginSession.second_factor_verified_at,
so it covers every way of signing in. See the auth README ("Staff's second factor").
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

import pyotp
import segno
import sqlalchemy as sa

from careteams.auth import permissions as perm
from careteams.auth.account import SignInMethod, sign_in_method_source
from careteams.auth.models import LoginSession, RecoveryCode, SecondFactorReset, TotpFactor
from careteams.db import utcnow
from careteams.errors import Conflict, NotFound, ValidationError, ensure
from careteams.extensions import db
from careteams.members.models import Cooperative, Person, StaffRole
from careteams.members.permissions import Actor

ISSUER = "careteams"
STEP_SECONDS = 30
RECOVERY_CODES = 10
WRONG_CODE = "That code is not right. Type the 6 digits your app shows now, or one of your recovery codes."
USED_CODE = "That code has just been used. Wait for your app to show the next one."


def _digest(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def _refuse(message: str, field: str = "code") -> ValidationError:
    return ValidationError(message, code="wrong_second_factor", details={"fields": {field: [message]}})


def needs_second_factor(person: Person) -> bool:
    """Whether the person holds any staff role (anywhere): then she needs the factor."""
    return db.session.scalar(sa.select(sa.exists().where(StaffRole.person_id == person.id))) or False


def factor_of(person: Person) -> TotpFactor | None:
    return db.session.scalar(sa.select(TotpFactor).where(TotpFactor.person_id == person.id))


def has_confirmed_factor(person: Person) -> bool:
    factor = factor_of(person)
    return factor is not None and factor.confirmed_at is not None


# --- the login session ------------------------------------------------------------


def _login_session(person: Person) -> LoginSession | None:
    key = getattr(person, "login_session_key", None)
    if not key:
        return None
    return db.session.scalar(sa.select(LoginSession).where(
        LoginSession.key_hash == hashlib.sha256(key.encode()).hexdigest(), LoginSession.ended_at.is_(None)))


def session_passed(person: Person) -> bool:
    """Whether the person passed her second factor in the login session she is using now."""
    row = _login_session(person)
    return row is not None and row.second_factor_verified_at is not None


def _mark_session_passed(person: Person) -> None:
    row = _login_session(person)
    if row is not None:
        row.second_factor_verified_at = utcnow()
        db.session.flush()


# --- enrolment --------------------------------------------------------------------


def start_enrolment(person: Person) -> TotpFactor:
    """The person's unconfirmed factor (a new secret the first time); Conflict if she has one."""
    factor = factor_of(person)
    if factor is not None and factor.confirmed_at is not None:
        raise Conflict("You already have a second factor. Ask another admin to reset it if you lost it.",
                       code="second_factor_exists")
    if factor is None:
        factor = TotpFactor(person_id=person.id, secret=pyotp.random_base32())
        db.session.add(factor)
        db.session.flush()
    return factor


def provisioning_uri(person: Person, factor: TotpFactor) -> str:
    return pyotp.TOTP(factor.secret).provisioning_uri(name=person.email or f"person-{person.id}", issuer_name=ISSUER)


def qr_svg(uri: str) -> str:
    """The otpauth:// URI as an SVG QR code (no XML declaration, no size fixed: CSS sizes it)."""
    return segno.make(uri, error="m").svg_inline(scale=4, omitsize=True, dark="#000", light="#fff")


def _new_recovery_codes(person: Person) -> list[str]:
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.person_id == person.id))
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = secrets.token_hex(5)  # 10 hex digits, 40 bits: shown as "abcde-12345"
        code = f"{raw[:5]}-{raw[5:]}"
        codes.append(code)
        db.session.add(RecoveryCode(person_id=person.id, code_hash=_digest(code)))
    db.session.flush()
    return codes


def confirm_enrolment(person: Person, code: str, now: datetime | None = None) -> list[str]:
    """Confirm the pending factor with a code from the app; the recovery codes, shown once.
    This login session counts as passed."""
    factor = start_enrolment(person)
    _check_totp(factor, code, now)
    factor.confirmed_at = utcnow()
    codes = _new_recovery_codes(person)
    _mark_session_passed(person)
    return codes


def enrol_with_secret(person: Person, secret: str) -> TotpFactor:
    """A confirmed factor with a known secret (the demo's published ones, the tests' fixed one)."""
    factor = factor_of(person)
    if factor is None:
        factor = TotpFactor(person_id=person.id, secret=secret)
        db.session.add(factor)
    factor.secret = secret
    factor.confirmed_at = factor.confirmed_at or utcnow()
    db.session.flush()
    return factor


# --- checking a code ----------------------------------------------------------------


def _normalise(code: str | None) -> str:
    return "".join((code or "").split()).lower()


def _check_totp(factor: TotpFactor, code: str | None, now: datetime | None = None) -> None:
    """Accept the code of this 30 s step or the one either side (clocks drift), once only."""
    code = _normalise(code)
    now = now or utcnow()
    if not (len(code) == 6 and code.isdigit()):
        raise _refuse(WRONG_CODE)
    totp = pyotp.TOTP(factor.secret)
    step = int(now.timestamp()) // STEP_SECONDS
    matched = next((s for s in (step, step - 1, step + 1)
                    if secrets.compare_digest(totp.at(s * STEP_SECONDS), code)), None)
    if matched is None:
        raise _refuse(WRONG_CODE)
    if factor.last_used_step is not None and matched <= factor.last_used_step:
        raise _refuse(USED_CODE)
    # Conditional update: of two requests with the same code, only one moves the step on.
    moved = db.session.execute(
        sa.update(TotpFactor)
        .where(TotpFactor.id == factor.id,
               sa.or_(TotpFactor.last_used_step.is_(None), TotpFactor.last_used_step < matched))
        .values(last_used_step=matched)
        .execution_options(synchronize_session=False)
    ).rowcount
    if moved != 1:
        raise _refuse(USED_CODE)
    factor.last_used_step = matched
    db.session.flush()


def _use_recovery_code(person: Person, code: str) -> bool:
    used = db.session.execute(
        sa.update(RecoveryCode)
        .where(RecoveryCode.person_id == person.id, RecoveryCode.code_hash == _digest(code),
               RecoveryCode.used_at.is_(None))
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    return used == 1


def check_code(person: Person, code: str | None, now: datetime | None = None) -> None:
    """Accept a TOTP code or an unused recovery code (spent) of the person's confirmed
    factor; ValidationError (on the field "code") otherwise."""
    factor = factor_of(person)
    if factor is None or factor.confirmed_at is None:
        raise _refuse("You have no second factor yet. Set one up first.")
    normalised = _normalise(code)
    if len(normalised) == 11 and normalised[5] == "-":  # a recovery code
        if not _use_recovery_code(person, normalised):
            raise _refuse(WRONG_CODE)
        db.session.flush()
        return
    _check_totp(factor, normalised, now)


def pass_second_factor(person: Person, code: str | None, now: datetime | None = None) -> None:
    """The person's code is right: this login session counts as passed."""
    check_code(person, code, now)
    _mark_session_passed(person)


def recovery_codes_left(person: Person) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(RecoveryCode).where(
        RecoveryCode.person_id == person.id, RecoveryCode.used_at.is_(None))) or 0


# --- resets by another admin ----------------------------------------------------------


@dataclass(frozen=True)
class StaffFactor:
    person: Person
    roles: list[str]
    enrolled: bool
    can_reset: bool


def _staff_ids(coop: Cooperative) -> set[int]:
    return set(db.session.scalars(sa.select(StaffRole.person_id).where(StaffRole.cooperative_id == coop.id)))


def staff_factors(actor: Actor, coop: Cooperative) -> list[StaffFactor]:
    """The co-op's staff, whether each has a factor, and whom this admin may reset."""
    ensure(perm.can_list_second_factors(actor, coop.id))
    roles: dict[int, list[str]] = {}
    for person_id, role in db.session.execute(
            sa.select(StaffRole.person_id, StaffRole.role).where(StaffRole.cooperative_id == coop.id)
            .order_by(StaffRole.id)):
        roles.setdefault(person_id, []).append(role.value)
    people = db.session.scalars(sa.select(Person).where(Person.id.in_(roles)).order_by(Person.name)).all()
    enrolled = set(db.session.scalars(sa.select(TotpFactor.person_id).where(
        TotpFactor.person_id.in_(roles), TotpFactor.confirmed_at.is_not(None))))
    return [StaffFactor(p, roles[p.id], p.id in enrolled,
                        perm.can_reset_second_factor(actor, coop.id, p.id, True)) for p in people]


def reset_second_factor(actor: Actor, coop: Cooperative, person_id: int) -> SecondFactorReset:
    """Remove a staff person's factor and recovery codes (she enrols again at her next
    sign-in; her live sessions must pass it again), and record who did it."""
    ensure(perm.can_list_second_factors(actor, coop.id))
    staff_here = person_id in _staff_ids(coop)
    if not staff_here:
        raise NotFound("No such staff member.")
    ensure(perm.can_reset_second_factor(actor, coop.id, person_id, staff_here))
    db.session.execute(sa.delete(TotpFactor).where(TotpFactor.person_id == person_id))
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.person_id == person_id))
    db.session.execute(
        sa.update(LoginSession)
        .where(LoginSession.person_id == person_id, LoginSession.ended_at.is_(None))
        .values(second_factor_verified_at=None)
        .execution_options(synchronize_session=False)
    )
    audit = SecondFactorReset(cooperative_id=coop.id, person_id=person_id, reset_by_id=actor.person_id)
    db.session.add(audit)
    db.session.flush()
    return audit


def resets(actor: Actor, coop: Cooperative) -> list[SecondFactorReset]:
    ensure(perm.can_list_second_factors(actor, coop.id))
    return list(db.session.scalars(sa.select(SecondFactorReset).where(
        SecondFactorReset.cooperative_id == coop.id).order_by(SecondFactorReset.id.desc())))


@sign_in_method_source
def _authenticator_app(person: Person) -> list[SignInMethod]:
    """My account lists the second factor of staff (and of anyone who has one)."""
    factor = factor_of(person)
    if factor is not None and factor.confirmed_at is not None:
        left = recovery_codes_left(person)
        return [SignInMethod("totp", "Authenticator app (second factor)",
                             f"Set up. {left} recovery code{'s' if left != 1 else ''} left.", None)]
    if needs_second_factor(person):
        return [SignInMethod("totp", "Authenticator app (second factor)", "Not set up yet.",
                             "auth.enrol_second_factor")]
    return []
