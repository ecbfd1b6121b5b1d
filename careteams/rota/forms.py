"""WTForms for the rota's pages (CSRF comes with Flask-WTF); the services validate again."""

from __future__ import annotations

from wtforms import IntegerField, RadioField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, NumberRange, Optional, Regexp

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
