"""WTForms for the rota's pages (CSRF comes with Flask-WTF); the services validate again."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectMultipleField,
    TextAreaField,
    TimeField,
    ValidationError,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp
from wtforms.widgets import CheckboxInput, ListWidget

from careteams.web.forms import PageForm


class SwapForm(FlaskForm):
    """Propose a swap: which of the team-mates' visits she would take instead of hers."""

    # The choices are the service's (worker.swap_choices); a value no longer among them
    # (the visit was cancelled meanwhile) is left to propose_swap to refuse in words.
    other_shift_id = RadioField("Which visit would you take instead?", validate_choice=False, validators=[
        InputRequired(message="Choose the visit you would take instead."),
        Regexp(r"^\d{1,18}$", message="Choose one of the visits listed."),
    ])


# ---------------------------------------------------------------- adding, changing and cancelling a visit

KIND_CHOICES = [("personal_care", "Personal care"), ("practical_help", "Practical help"),
                ("companionship", "Companionship"), ("overnight", "Overnight"), ("sleep_in", "Sleep-in")]


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

    def validate_end(self, field) -> None:
        if field.data is None and self.length.data is None and not self.length.errors:
            raise ValidationError("Enter the end time or the length.")
        if field.data is not None and self.length.data is not None:
            raise ValidationError("Give the end time or the length, not both.")


class VisitForm(_VisitTimesForm):
    """Add a visit: the rota's checks run first; warnings need the tick."""

    # The plan's tasks are the page's choices (shifts.task_choices); the service checks again.
    tasks = SelectMultipleField("Tasks from the support plan (optional)", choices=[], validate_choice=False,
                                widget=ListWidget(prefix_label=False), option_widget=CheckboxInput())
    confirm = BooleanField("I have read the warnings")
    # The warnings the person was shown (their codes): the tick confirms those, no others.
    warned = HiddenField()


class EditVisitForm(_VisitTimesForm):
    scope = RadioField("Which visits change?", default="this",
                       choices=[("this", "This visit only"), ("following", "This visit and the following ones")],
                       validators=[InputRequired(message="Choose which visits change.")])


class CancelVisitForm(PageForm):
    reason = TextAreaField("Why is the visit cancelled?", validators=[
        DataRequired(message="Say why the visit is cancelled."), Length(max=500)])
