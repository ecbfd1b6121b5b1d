"""WTForms for the people, staff roles and co-op settings pages (CSRF comes with
Flask-WTF). Values are taken as typed: the API's marshmallow schemas check them
(careteams.members.pages), so the web and the API refuse the same things."""

from __future__ import annotations

from zoneinfo import available_timezones

from wtforms import (
    BooleanField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired
from wtforms.widgets import CheckboxInput, ListWidget

try:  # WTForms 3.3 names its choices; older versions take (value, label) pairs
    from wtforms.fields.choices import SelectChoice
except ImportError:  # pragma: no cover
    SelectChoice = None

from careteams.members.enums import StaffRoleName
from careteams.members.rules import STAFF_ROLE_LABELS
from careteams.web.forms import PageForm


def choices(pairs) -> list:
    return [SelectChoice(value, label) for value, label in pairs] if SelectChoice else list(pairs)


ROLE_CHOICES = choices((role.value, STAFF_ROLE_LABELS[role]) for role in StaffRoleName)
REACH_CHOICES = choices([("email", "By email"), ("sms", "By text message")])

# Words for the rota's checks (careteams.rota.rules.CHECK_CODES).
CHECK_LABELS = {
    "rest": "11 hours' rest between working days",
    "weekly_hours": "No more than 48 hours a week on average",
    "break": "A break after 6 hours",
    "short_visit": "Visits shorter than the co-op's shortest visit",
    "short_personal_care": "Short personal care visits",
    "personal_care_too_short": "Personal care too short for its tasks",
    "travel": "Enough travel time between visits",
}


def zone_choices() -> list:
    return choices((name, name) for name in sorted(available_timezones()) if "/" in name and not name.startswith("Etc/"))


class InviteForm(PageForm):
    name = StringField("Full name")
    email = StringField("Email address (optional if you give a mobile)")
    phone = StringField("UK mobile number (optional if you give an email)")
    preferred_channel = RadioField("Send the invitation", choices=REACH_CHOICES, default="email")

    def values(self) -> dict:
        return {"name": self.name.data or "", "email": (self.email.data or "").strip() or None,
                "phone": (self.phone.data or "").strip() or None, "preferred_channel": self.preferred_channel.data}


class PersonEditForm(PageForm):
    name = StringField("Full name")
    email = StringField("Email address")
    phone = StringField("UK mobile number")

    def values(self) -> dict:
        return {"name": self.name.data or "", "email": (self.email.data or "").strip() or None,
                "phone": (self.phone.data or "").strip() or None}


class ConfirmForm(PageForm):
    """A button with its CSRF token: deactivate, reactivate, take a role back."""


class GrantRoleForm(PageForm):
    person_id = SelectField("Person", coerce=int, validators=[InputRequired("Choose a person.")], validate_choice=False)
    role = SelectField("Role", choices=ROLE_CHOICES, validators=[InputRequired("Choose a role.")])


class CoopRulesForm(PageForm):
    name = StringField("The co-op's name")
    investor_cap_num = StringField("Investor members: at most", render_kw={"inputmode": "numeric"})
    investor_cap_den = StringField("in every", render_kw={"inputmode": "numeric"})
    quorum_min_members = StringField("Quorum: at least this many members", render_kw={"inputmode": "numeric"})
    quorum_percent = StringField("Quorum: and at least this percent of members", render_kw={"inputmode": "numeric"})
    proxy_limit = StringField("Most proxy votes one member may hold", render_kw={"inputmode": "numeric"})
    min_visit_minutes = StringField("Shortest visit, in minutes", render_kw={"inputmode": "numeric"})
    timezone = SelectField("Time zone", choices=[], validate_choice=False)
    sms_number = StringField("Number the co-op texts from (optional)")

    FIELDS = ("name", "investor_cap_num", "investor_cap_den", "quorum_min_members", "quorum_percent", "proxy_limit",
              "min_visit_minutes", "timezone", "sms_number")

    def values(self) -> dict:
        data = {name: (self[name].data or "").strip() for name in self.FIELDS}
        data["sms_number"] = data["sms_number"] or None
        return data


class HoursSettingsForm(PageForm):
    auto_confirm_hours = StringField("Hours are confirmed by themselves after (hours)", render_kw={"inputmode": "numeric"})
    charge_percent = StringField("The co-op's charge on invoices (percent)", render_kw={"inputmode": "decimal"})
    deduction_percent = StringField("The co-op's deduction from pay (percent)", render_kw={"inputmode": "decimal"})
    sleep_in_allowance_pence = StringField("Sleep-in allowance (pence)", render_kw={"inputmode": "numeric"})
    cancellation_notice_hours = StringField("Cancellation notice (hours)", render_kw={"inputmode": "numeric"})
    cancellation_pay_percent = StringField("Pay for a visit cancelled at short notice (percent)",
                                           render_kw={"inputmode": "decimal"})
    mileage_pence_per_mile = StringField("Mileage (pence a mile)", render_kw={"inputmode": "numeric"})
    pay_frequency = SelectField("Pay", choices=choices([("weekly", "Weekly"), ("monthly", "Monthly")]), validate_choice=False)

    FIELDS = ("auto_confirm_hours", "charge_percent", "deduction_percent", "sleep_in_allowance_pence",
              "cancellation_notice_hours", "cancellation_pay_percent", "mileage_pence_per_mile", "pay_frequency")

    def values(self) -> dict:
        return {name: (str(self[name].data or "")).strip() for name in self.FIELDS}


class RotaSettingsForm(PageForm):
    blocking_checks = SelectMultipleField("Checks that stop a shift being booked (the others only warn)",
                                          choices=choices(CHECK_LABELS.items()), validate_choice=False,
                                          widget=ListWidget(prefix_label=False), option_widget=CheckboxInput())
    allow_short_personal_care = BooleanField("Allow personal care visits shorter than the shortest visit")
    travel_speed_kmh = StringField("Travel speed for travel time (km an hour)", render_kw={"inputmode": "numeric"})
    offer_wave_size = StringField("Workers offered a shift at once (0: everyone)", render_kw={"inputmode": "numeric"})
    offer_ttl_minutes = StringField("Minutes before an offer goes to the next workers", render_kw={"inputmode": "numeric"})
    missed_visit_minutes = StringField("Minutes late before a visit counts as missed", render_kw={"inputmode": "numeric"})
    horizon_weeks = StringField("Weeks of shifts made ahead", render_kw={"inputmode": "numeric"})

    NUMBERS = ("travel_speed_kmh", "offer_wave_size", "offer_ttl_minutes", "missed_visit_minutes", "horizon_weeks")

    def values(self) -> dict:
        data = {name: (self[name].data or "").strip() for name in self.NUMBERS}
        data["blocking_checks"] = list(self.blocking_checks.data or [])
        data["allow_short_personal_care"] = bool(self.allow_short_personal_care.data)
        return data


class MatchingSettingsForm(PageForm):
    review_required = BooleanField("A facilitator reviews each match before the team hears of it")
    introduction_stale_days = StringField("Days before an introduction not followed up is flagged",
                                          render_kw={"inputmode": "numeric"})
    check_warning_days = StringField("Days' warning before a worker's check runs out", render_kw={"inputmode": "numeric"})
    required_training = TextAreaField("Training every worker needs (one a line, optional)")

    def values(self) -> dict:
        return {"review_required": bool(self.review_required.data),
                "introduction_stale_days": (self.introduction_stale_days.data or "").strip(),
                "check_warning_days": (self.check_warning_days.data or "").strip(),
                "required_training": [line.strip() for line in (self.required_training.data or "").splitlines()
                                      if line.strip()]}
