"""WTForms for the matching pages (CSRF comes with Flask-WTF); services validate again."""

from __future__ import annotations

from wtforms import BooleanField, DateField, RadioField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

try:  # WTForms 3.3 names its choices; older versions take (value, label) pairs
    from wtforms.fields.choices import SelectChoice
except ImportError:  # pragma: no cover
    SelectChoice = None

from careteams.matching.enums import CheckKind
from careteams.matching.rules import CHECK_LABELS, EQUALITY_QUESTIONS, equality_choices
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


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class SkillForm(PageForm):
    name = StringField("Skill", filters=[_strip], validators=[DataRequired("Enter the skill's name."),
                                                              Length(max=80)])


class RenameSkillForm(PageForm):
    name = StringField("New name", filters=[_strip], validators=[DataRequired("Enter the new name."),
                                                                 Length(max=80)])


class CheckForm(PageForm):
    """A check or training item a facilitator has seen the evidence for."""

    kind = SelectField("Kind of check", choices=[SelectChoice(k.value, CHECK_LABELS[k]) for k in CheckKind],
                       validators=[InputRequired("Choose the kind of check.")])
    name = StringField("Training item (for training only)", filters=[_strip], validators=[Optional(), Length(max=80)])
    reference = StringField("Reference (the certificate or document number)", filters=[_strip],
                            validators=[Optional(), Length(max=60)])
    checked_on = DateField("Issued on", validators=[InputRequired("Enter the date it was issued, like 2026-11-02.")])
    expires_on = DateField("Expires on (leave blank if it does not expire)", validators=[Optional()])
