"""Flask-WTF forms for the hours pages; refused input is shown back through
careteams.web.forms (services check everything again)."""

from __future__ import annotations

from datetime import date

from wtforms import DateField, IntegerField, RadioField, SelectField, StringField, TimeField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp

from careteams.web.forms import PageForm

NOTE = "Short note (no health details)"


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class LogHoursForm(PageForm):
    team_id = SelectField("Team", coerce=int, validators=[InputRequired("Choose the team.")])
    day = DateField("Day", validators=[InputRequired("Enter the day, like 2026-10-25.")])
    start = TimeField("Start", validators=[InputRequired("Enter the start time, like 10:05.")])
    end = TimeField("End", validators=[InputRequired("Enter the end time, like 12:05.")])
    break_minutes = IntegerField("Breaks (minutes)", default=0, validators=[
        Optional(), NumberRange(0, 240, "Enter whole minutes from 0 to 240.")])
    travel_minutes = IntegerField("Travel (minutes)", default=0, validators=[
        Optional(), NumberRange(0, 600, "Enter whole minutes from 0 to 600.")])
    note = StringField(NOTE, filters=[_strip], validators=[Optional(), Length(max=280)])


class AdjustForm(PageForm):
    start = TimeField("Start", validators=[InputRequired("Enter the start time, like 10:05.")])
    end = TimeField("End", validators=[InputRequired("Enter the end time, like 12:05.")])
    note = StringField("Note", filters=[_strip], validators=[Optional(), Length(max=280)])


class DisputeForm(PageForm):
    comment = StringField("Dispute: what is wrong?", id="dispute", filters=[_strip], validators=[
        DataRequired("Say what is wrong with these hours."), Length(max=500)])


class RejectForm(PageForm):
    comment = StringField("Why not? (a facilitator will help)", id="reject", filters=[_strip], validators=[
        DataRequired("Say why you do not accept the change."), Length(max=500)])


class PayRunForm(PageForm):
    period_start = DateField("First day of the period (a Monday for weekly runs, the 1st for monthly)",
                             validators=[InputRequired("Enter the first day of the period, like 2026-10-01.")])


class ResolveForm(PageForm):
    outcome = RadioField("Settle it", choices=[SelectChoice("confirm", "Confirm as logged"),
                                               SelectChoice("void", "Void (not worked)")],
                         validators=[InputRequired("Choose confirm or void.")])
    note = StringField("Note", filters=[_strip], validators=[Optional(), Length(max=500)])


class AnswerForm(PageForm):
    comment = StringField("Your answer", id="answer", filters=[_strip], validators=[
        DataRequired("Write your answer."), Length(max=500, message="Keep it to 500 characters or fewer.")])


class ReplyForm(PageForm):
    comment = StringField("Your reply", id="reply", filters=[_strip], validators=[
        DataRequired("Write your reply."), Length(max=500, message="Keep it to 500 characters or fewer.")])


class SettleForm(PageForm):
    """A facilitator settles a dispute with the figures both sides should have agreed:
    this confirms the entry with them."""

    start = TimeField("Start", validators=[InputRequired("Enter the start time, like 10:05.")])
    end = TimeField("End", validators=[InputRequired("Enter the end time, like 12:05.")])
    break_minutes = IntegerField("Breaks (minutes)", default=0, validators=[
        Optional(), NumberRange(0, 240, "Enter whole minutes from 0 to 240.")])
    travel_minutes = IntegerField("Travel (minutes)", default=0, validators=[
        Optional(), NumberRange(0, 600, "Enter whole minutes from 0 to 600.")])
    note = StringField("Note for both sides", filters=[_strip], validators=[
        Optional(), Length(max=500, message="Keep it to 500 characters or fewer.")])


MONTH = r"^\d{4}-(0[1-9]|1[0-2])$"
MAX_FIGURE_MONTHS = 24


class FiguresRangeForm(PageForm):
    """The co-op figures' months (GET, no CSRF: it changes nothing). Blank: the last 12 months."""

    class Meta:
        csrf = False

    from_month = StringField("First month (optional)", filters=[_strip], validators=[
        Optional(), Regexp(MONTH, message="Enter the first month like 2026-01.")])
    to_month = StringField("Last month (optional)", filters=[_strip], validators=[
        Optional(), Regexp(MONTH, message="Enter the last month like 2026-12.")])

    def months(self, this_month: date) -> tuple[date, date] | None:
        """The first and last month (1sts) chosen, or None with each reason on its field."""
        if not self.validate():
            return None
        last = _month(self.to_month.data) if self.to_month.data else this_month
        first = _month(self.from_month.data) if self.from_month.data else _add_months(last, -11)
        if last > this_month:
            self.to_month.errors.append(f"The last month cannot be after this month ({this_month:%b %Y}).")
        elif first > last:
            self.from_month.errors.append("The first month must be the same as the last month or before it.")
        elif (last.year - first.year) * 12 + last.month - first.month + 1 > MAX_FIGURE_MONTHS:
            self.from_month.errors.append(f"Choose at most {MAX_FIGURE_MONTHS} months.")
        else:
            return first, last
        return None


def _month(text: str) -> date:
    year, month = text.split("-")
    return date(int(year), int(month), 1)


def _add_months(day: date, n: int) -> date:
    index = day.year * 12 + day.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)
AREA_BAND_WORDS = {"urban": "Urban", "rural": "Rural", "very_rural": "Very rural"}
FUNDER_KIND_WORDS = {"direct_payment": "Direct payment", "isf": "Individual service fund", "council": "Council",
                     "self_funded": "Self-funded (the person pays)"}


class PayRateForm(PageForm):
    """A pay rate for employed workers in an area band from a date; money in pounds."""

    area_band = SelectField("Area band", choices=[SelectChoice(k, v) for k, v in AREA_BAND_WORDS.items()],
                            validators=[InputRequired("Choose the area band.")])
    effective_from = DateField("From (the first day it applies)",
                               validators=[InputRequired("Enter the first day, like 2027-04-01.")])
    hourly_rate = StringField("Hourly rate in pounds", filters=[_strip],
                              validators=[DataRequired("Enter the hourly rate in pounds, like 12.60.")])
    night_enhancement = StringField("Extra per hour at night, in pounds (optional)", filters=[_strip],
                                    validators=[Optional()])
    bank_holiday_enhancement = StringField("Extra per hour on a bank holiday, in pounds (optional)",
                                           filters=[_strip], validators=[Optional()])


class AgreedRateForm(PageForm):
    """A rate agreed between the team and one of its independent workers, from a date; in pounds."""

    person_id = SelectField("Worker", coerce=int, validators=[InputRequired("Choose the worker.")])
    effective_from = DateField("From (the first day it applies)",
                               validators=[InputRequired("Enter the first day, like 2027-04-01.")])
    hourly_rate = StringField("Hourly rate in pounds", filters=[_strip],
                              validators=[DataRequired("Enter the hourly rate in pounds, like 16.50.")])


class AreaBandForm(PageForm):
    area_band = SelectField("The team's area band", choices=[SelectChoice(k, v) for k, v in AREA_BAND_WORDS.items()],
                            validators=[InputRequired("Choose the area band.")])


FUNDER_ROWS = 5  # the API takes up to five funders


class FundersForm(PageForm):
    """Who pays for a team's support: up to five rows of kind, name and share; blank rows are left out."""

    def rows(self) -> list[tuple[int, object, object, object]]:
        return [(i, self[f"kind_{i}"], self[f"name_{i}"], self[f"share_{i}"]) for i in range(1, FUNDER_ROWS + 1)]

    def filled(self) -> list[tuple[int, dict]]:
        """(row number, the row as the API takes it) for each row with anything in it."""
        out = []
        for i, kind, name, share in self.rows():
            if kind.data or name.data or share.data is not None:
                out.append((i, {"kind": kind.data or None, "name": name.data or "", "share_percent": share.data}))
        return out


for _i in range(1, FUNDER_ROWS + 1):
    setattr(FundersForm, f"kind_{_i}", SelectField(
        f"Funder {_i}: kind", choices=[SelectChoice("", "Choose a kind")] +
        [SelectChoice(k, v) for k, v in FUNDER_KIND_WORDS.items()], validators=[Optional()]))
    setattr(FundersForm, f"name_{_i}", StringField(f"Funder {_i}: name", filters=[_strip],
                                                   validators=[Optional(), Length(max=120)]))
    setattr(FundersForm, f"share_{_i}", IntegerField(f"Funder {_i}: share (%)", validators=[
        Optional(), NumberRange(1, 100, "Enter a whole number from 1 to 100.")]))
