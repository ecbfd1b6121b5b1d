"""WTForms for the rota's pages (CSRF comes with Flask-WTF); the services validate again."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import RadioField
from wtforms.validators import InputRequired, Regexp


class SwapForm(FlaskForm):
    """Propose a swap: which of the team-mates' visits she would take instead of hers."""

    # The choices are the service's (worker.swap_choices); a value no longer among them
    # (the visit was cancelled meanwhile) is left to propose_swap to refuse in words.
    other_shift_id = RadioField("Which visit would you take instead?", validate_choice=False, validators=[
        InputRequired(message="Choose the visit you would take instead."),
        Regexp(r"^\d{1,18}$", message="Choose one of the visits listed."),
    ])
