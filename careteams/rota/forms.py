"""WTForms for the rota's pages (CSRF comes with Flask-WTF); the services validate again."""

from __future__ import annotations

from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp
from wtforms.validators import ValidationError as WTFValidationError
from wtforms.widgets import CheckboxInput, ListWidget

try:  # WTForms 3.3 names its choices; older versions take (value, label) pairs
    from wtforms.fields.choices import SelectChoice
except ImportError:  # pragma: no cover
    SelectChoice = None

from careteams.rota import rules
from careteams.web.forms import PageForm


class SwapForm(PageForm):
    """Propose a swap: which of the team-mates' visits she would take instead of hers."""

    # The choices are the service's (worker.swap_choices); a value no longer among them
    # (the visit was cancelled meanwhile) is left to propose_swap to refuse in words.
    other_shift_id = RadioField("Which visit would you take instead?", validate_choice=False, validators=[
        InputRequired(message="Choose the visit you would take instead."),
        Regexp(r"^\d{1,18}$", message="Choose one of the visits listed."),
    ])


class _WithinIfANumber(NumberRange):
    """NumberRange, silent when the field holds no number (its own "Enter a whole number" says enough)."""

    def __call__(self, form, field):
        if field.data is not None:
            super().__call__(form, field)


class ArrangeCoverForm(PageForm):
    """Arrange cover for a visit whose worker asked: the next wave of cover offers."""

    wave_size = IntegerField("How many workers to ask now (optional)", validators=[
        Optional(), _WithinIfANumber(min=0, max=500)])


class DecideSwapForm(PageForm):
    """Approve or refuse a swap both workers agreed to."""

    decision = RadioField("Your decision", choices=[
        SelectChoice("approve", "Approve: they change places on the rota"),
        SelectChoice("refuse", "Refuse: both stay booked as they are"),
    ], validators=[InputRequired(message="Choose whether to approve or refuse the swap.")])


# ---------------------------------------------------------------- adding, changing and cancelling a visit



def choices(pairs) -> list:
    """(value, label) pairs as this WTForms wants them (3.3 names its choices)."""
    return [SelectChoice(str(value), label) if SelectChoice else (value, label) for value, label in pairs]


KIND_CHOICES = choices([("personal_care", "Personal care"), ("practical_help", "Practical help"),
                        ("companionship", "Companionship"), ("overnight", "Overnight"), ("sleep_in", "Sleep-in")])


class _VisitTimesForm(PageForm):
    """Day, start, and the end time or the length: the team's wall clock, never UTC."""

    day = DateField("Day", validators=[InputRequired()])
    start = TimeField("Start time", validators=[InputRequired()])
    end = TimeField("End time (or give the length)", validators=[Optional()])
    length = IntegerField("Length in minutes (or give the end time)",
                          validators=[Optional(), NumberRange(1, 24 * 60)])
    kind = RadioField("Kind of visit", choices=KIND_CHOICES, validators=[InputRequired(message="Choose the kind of visit.")])
    notes = TextAreaField("Notes for the worker (optional)", validators=[Length(max=2000)])
    break_minutes = IntegerField("Planned break in minutes (optional)", default=0,
                                 validators=[Optional(), NumberRange(0, 240)])

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        # One of the end time and the length (an empty optional field skips inline checks).
        given = [f for f in (self.end, self.length) if f.data is not None or f.errors]
        if not given:
            self.end.errors = [*self.end.errors, "Enter the end time or the length."]
        elif self.end.data is not None and self.length.data is not None:
            self.end.errors = [*self.end.errors, "Give the end time or the length, not both."]
        else:
            return valid
        return False


class VisitForm(_VisitTimesForm):
    """Add a visit: the rota's checks run first; warnings need the tick."""

    # The plan's tasks are the page's choices (shifts.task_choices); the service checks again.
    tasks = SelectMultipleField("Tasks from the support plan (optional)", choices=[], validate_choice=False,
                                widget=ListWidget(prefix_label=False), option_widget=CheckboxInput())
    confirm = BooleanField("I have read the warnings")
    # The warnings the person was shown (their codes): the tick confirms those, no others.
    warned = HiddenField()


def _task_field():
    """The plan's tasks as checkboxes; the page sets the choices, the service checks again."""
    return SelectMultipleField("Tasks from the support plan (optional)", choices=[], validate_choice=False,
                               widget=ListWidget(prefix_label=False), option_widget=CheckboxInput())


class EditVisitForm(_VisitTimesForm):
    tasks = _task_field()
    scope = RadioField("Which visits change?", default="this",
                       choices=choices([("this", "This visit only"), ("following", "This visit and the following ones")]),
                       validators=[InputRequired(message="Choose which visits change.")])


class CancelVisitForm(PageForm):
    reason = TextAreaField("Why is the visit cancelled?", validators=[
        DataRequired(message="Say why the visit is cancelled."), Length(max=500)])


# ---------------------------------------------------------------- offering (rota/pages/offering.py)

class OfferVisitForm(PageForm):
    """Offer the visit to the team: how many at a time (0: everyone at once)."""

    wave_size = IntegerField("How many workers to offer it to at a time", validators=[
        InputRequired(), NumberRange(min=0, max=500)])


class BookVisitForm(PageForm):
    """Book a team worker directly. The choices are offering.bookable_workers; a stale
    choice is left to offers.book_directly to refuse in words, and stays chosen."""

    person_id = SelectField("Who to book", validate_choice=False, validators=[
        InputRequired(message="Choose who to book."),
        Regexp(r"^\d{1,18}$", message="Choose one of the workers listed.")])


class ConsentOutsideForm(PageForm):
    """The leader's or Rota wrangler's consent to offer this visit outside the team."""


class OutsideOfferForm(PageForm):
    """Offer the visit to workers of the co-op: the rota's rules choose whom."""


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


KIND_LABELS = {
    "personal_care": "Personal care",
    "practical_help": "Practical help",
    "companionship": "Companionship",
    "overnight": "Overnight (awake)",
    "sleep_in": "Sleep-in",
}
DAY_LABELS = [("MO", "Monday"), ("TU", "Tuesday"), ("WE", "Wednesday"), ("TH", "Thursday"),
              ("FR", "Friday"), ("SA", "Saturday"), ("SU", "Sunday")]


class SeriesForm(PageForm):
    """A recurring visit. The RRULE is built by rules.series_rrule; the service checks again."""

    repeat = RadioField("How often", default=rules.EVERY_WEEKDAY, choices=[
        SelectChoice(rules.EVERY_WEEKDAY, "Every weekday (Monday to Friday)"),
        SelectChoice(rules.EVERY_DAY, "Every day"),
        SelectChoice(rules.CHOSEN_DAYS, "On the days I choose")],
        validators=[InputRequired(message="Choose how often the visit repeats.")])
    days = MultiCheckboxField("Days (if you choose the days)",
                              choices=[SelectChoice(code, label) for code, label in DAY_LABELS])
    start_time = TimeField("Start time", validators=[InputRequired(message="Enter a start time like 08:00.")])
    hours = IntegerField("Hours", default=1, validators=[InputRequired(message="Enter the hours (0 to 24)."),
                                                          NumberRange(min=0, max=24)])
    minutes = IntegerField("Minutes", default=0, validators=[InputRequired(message="Enter the minutes (0 to 59)."),
                                                              NumberRange(min=0, max=59)])
    kind = RadioField("Kind of visit", choices=[SelectChoice(k, label) for k, label in KIND_LABELS.items()],
                      validators=[InputRequired(message="Choose the kind of visit.")])
    first_date = DateField("First date", validators=[InputRequired(message="Enter the first date.")])
    ends_on = DateField("Last date (optional)", validators=[Optional()])
    notes = TextAreaField("Notes for the worker (optional)", validators=[Length(max=2000)])
    tasks = _task_field()

    def validate_days(self, field) -> None:
        if self.repeat.data == rules.CHOSEN_DAYS:
            try:
                rules.series_rrule(self.repeat.data, field.data or [])
            except ValueError as exc:
                raise WTFValidationError(str(exc)) from None

    def validate_minutes(self, field) -> None:
        if self.duration_minutes == 0:
            raise WTFValidationError("A visit must last at least 1 minute.")
        if (self.duration_minutes or 0) > 24 * 60:
            raise WTFValidationError("A visit may last at most 24 hours.")

    def validate_ends_on(self, field) -> None:
        if field.data and self.first_date.data and field.data < self.first_date.data:
            raise WTFValidationError("The last date must be on or after the first date.")

    @property
    def duration_minutes(self) -> int | None:
        if self.hours.data is None or self.minutes.data is None:
            return None
        return self.hours.data * 60 + self.minutes.data

    def rrule(self) -> str:
        return rules.series_rrule(self.repeat.data, self.days.data or [])
