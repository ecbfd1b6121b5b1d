"""WTForms for the matching pages (CSRF comes with Flask-WTF); services validate again."""

from __future__ import annotations

from wtforms import BooleanField, RadioField
from wtforms.validators import DataRequired, Optional

try:  # WTForms 3.3 names its choices; older versions take (value, label) pairs
    from wtforms.fields.choices import SelectChoice
except ImportError:  # pragma: no cover
    SelectChoice = None

from careteams.matching.rules import EQUALITY_QUESTIONS, equality_choices
from careteams.web.forms import PageForm


def _choices(name: str, current: str | None = None) -> list:
    pairs = equality_choices(name, current)
    return [SelectChoice(value, label) for value, label in pairs] if SelectChoice else pairs


def _question(name: str) -> RadioField:
    # Every question may be left blank: giving equality data is voluntary, answer by answer.
    return RadioField(EQUALITY_QUESTIONS[name][0], choices=_choices(name), validators=[Optional()])


class EqualityForm(PageForm):
    """The equality questions, each with "prefer not to say", and the worker's consent."""

    ethnicity = _question("ethnicity")
    gender = _question("gender")
    age_band = _question("age_band")
    disability = _question("disability")
    consent = BooleanField("I agree that the co-op keeps these answers, only to count them in groups "
                           "of five or more to check that matching is fair",
                           validators=[DataRequired("Tick the box to agree before you save your answers.")])

    QUESTIONS = tuple(EQUALITY_QUESTIONS)

    def offer_current(self, row) -> EqualityForm:
        """Offer answers given earlier in other words (through the API), so saving keeps them."""
        for name in self.QUESTIONS:
            self[name].choices = _choices(name, getattr(row, name, None))
        return self

    def answers(self) -> dict[str, str | None]:
        return {name: self[name].data or None for name in self.QUESTIONS}
