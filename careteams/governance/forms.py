"""Flask-WTF forms for the governance pages; refused input is shown back through
careteams.web.forms. The app checks every browser POST's CSRF token before the
route runs (careteams/app.py), so these forms do not check it again: API clients
with a bearer token post the same pages."""

from __future__ import annotations

from wtforms import DateField, HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from careteams.members.rules import MEMBER_CLASS_LABELS
from careteams.web.forms import PageForm


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _id_or_none(value):
    """A chosen id, or None for the "Choose a member" prompt (or anything that is not an id)."""
    return int(value) if str(value).isdigit() else None


class _NoCsrf(PageForm):
    class Meta:
        csrf = False


class ChangeVoteForm(_NoCsrf):
    change_token = StringField("Change code", filters=[_strip], validators=[
        DataRequired("Enter the change code you were given when you voted.")])
    option = RadioField("Your new choice", id="change", validators=[InputRequired("Choose an option, or abstain.")])


class ProxyForm(_NoCsrf):
    proxy_membership_id = SelectField("Appoint a proxy to vote for you", coerce=_id_or_none, validate_choice=False,
                                      validators=[DataRequired("Choose who will vote for you.")])


# --- the register ---------------------------------------------------------------------------

CLASS_CHOICES = [SelectChoice(cls.value, label) for cls, label in MEMBER_CLASS_LABELS.items()]


def _note(label: str = "Note for the register's history (optional)") -> TextAreaField:
    return TextAreaField(label, filters=[_strip], validators=[Optional(), Length(max=500)])


class EnterMemberForm(_NoCsrf):
    """An application: a person the co-op knows, with a class and a share amount."""

    person_id = SelectField("Person", coerce=_id_or_none, validate_choice=False,
                            validators=[DataRequired("Choose the person to enter in the register.")])
    member_class = RadioField("Member class", choices=CLASS_CHOICES,
                              validators=[InputRequired("Choose a member class.")])
    share = StringField("Share amount in pounds", default="1.00", filters=[_strip],
                        validators=[DataRequired("Enter the share amount in pounds, like 1.00.")])


class AdmitForm(_NoCsrf):
    """An applicant (or someone who left) becomes a member from a day."""

    joined_on = DateField("Date they joined", validators=[InputRequired("Enter the date they joined.")])
    note = _note()


class ClassForm(_NoCsrf):
    member_class = RadioField("New member class", choices=CLASS_CHOICES,
                              validators=[InputRequired("Choose a member class.")])
    note = _note("Why the class changes (for the register's history, optional)")


class ShareForm(_NoCsrf):
    share = StringField("Share amount in pounds", filters=[_strip],
                        validators=[DataRequired("Enter the share amount in pounds, like 1.00.")])
    note = _note()


class LeaveForm(_NoCsrf):
    """Leaving, in two steps: the form, then a page that asks to confirm (`confirm` set)."""

    left_on = DateField("Date they left", validators=[InputRequired("Enter the date they left.")])
    note = _note("Reason they left (for the register's history, optional)")
    confirm = HiddenField()
