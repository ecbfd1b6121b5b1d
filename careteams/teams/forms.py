"""WTForms for the team pages (CSRF comes with Flask-WTF); services validate again."""

from __future__ import annotations

from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    Form,
    FormField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TelField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    Email,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from careteams.geo import POSTCODE_MESSAGE, normalise_postcode

try:  # WTForms 3.3 names its choices; older versions take (value, label) pairs
    from wtforms.fields.choices import SelectChoice
except ImportError:  # pragma: no cover
    SelectChoice = None

from careteams.teams.enums import TeamRole
from careteams.teams.rules import (
    DIRECT_INVITE_ROLES,
    MAX_SECTION_LENGTH,
    PERMISSION_WORDS,
    PLAN_SECTIONS,
    ROLE_LABELS,
)
from careteams.web.forms import PageForm


def choices(pairs) -> list:
    """Select options from (value, label) pairs."""
    return [SelectChoice(str(value), label) if SelectChoice else (value, label) for value, label in pairs]


class PersonFields:
    name = StringField("Their name", validators=[Optional(), Length(max=200)])
    email = EmailField("Email address", validators=[Optional(), Email("Enter an email address like name@example.org.")])
    phone = TelField("Mobile number", validators=[Optional(), Length(max=30)])


class InviteForm(PersonFields, PageForm):
    role = SelectField("How they will help", choices=choices((r.value, ROLE_LABELS[r]) for r in TeamRole if r in DIRECT_INVITE_ROLES),
                       validators=[DataRequired()])


class HatOfferForm(PersonFields, PageForm):
    hat_type_id = SelectField("Hat", coerce=int, validators=[DataRequired("Choose a hat.")])
    expires_on = DateField("Until (optional)", validators=[Optional()])


class ArrangerForm(PersonFields, PageForm):
    reason = TextAreaField("Why the leader cannot act for themselves", validators=[
        DataRequired("Record the reason."), Length(max=2000)])


class EndMembershipForm(PageForm):
    note = TextAreaField("Private note (optional)", validators=[Optional(), Length(max=500)])


class TeamForm(PageForm):
    display_name = StringField("Team name", validators=[DataRequired("Enter a name for the team."), Length(max=60)])
    # Where the support happens: a postcode, never coordinates (careteams/geo.py finds its point).
    postcode = StringField("Postcode where the support happens (optional)", validators=[Optional(), Length(max=10)])
    min_visit_minutes = IntegerField("Shortest visit in minutes (optional)", validators=[Optional(), NumberRange(1, 1440)])


    def validate_postcode(self, field):
        if field.data and field.data.strip():
            normal = normalise_postcode(field.data)
            if normal is None:
                raise ValidationError(POSTCODE_MESSAGE)
            field.data = normal


class NewTeamForm(TeamForm):
    cooperative = SelectField("Co-operative", validators=[DataRequired()])
    leader_id = SelectField("Whose team (facilitators only)", coerce=int, validators=[Optional()])


class PrivateDetailsForm(PageForm):
    address = TextAreaField("Visit address", validators=[Optional(), Length(max=2000)])
    access_notes = TextAreaField("How to get in (key safe, door codes)", validators=[Optional(), Length(max=2000)])
    emergency_contacts = TextAreaField("Emergency contacts", validators=[Optional(), Length(max=2000)])
    if_something_is_wrong = TextAreaField("Who to call if something is wrong", validators=[Optional(), Length(max=2000)])


class SectionForm(Form):
    text = TextAreaField("Text", validators=[Optional(), Length(max=MAX_SECTION_LENGTH)])
    shared_with_trial = BooleanField("Share this section with workers on trial")


def plan_form_class() -> type[PageForm]:
    """One textarea and one share box per plan section."""
    attrs = {key: FormField(SectionForm, label=title) for key, title in PLAN_SECTIONS.items()}
    attrs["base_version"] = IntegerField(validators=[Optional()])
    return type("PlanForm", (PageForm,), attrs)


class SuggestionForm(PageForm):
    section = SelectField("Section", choices=choices(PLAN_SECTIONS.items()), validators=[DataRequired()])
    text = TextAreaField("Suggested text", validators=[DataRequired("Write the suggested text."), Length(max=MAX_SECTION_LENGTH)])
    note = TextAreaField("Why (optional)", validators=[Optional(), Length(max=1000)])


class HatTypeForm(PageForm):
    """Another kind of hat: its name, what it is for, and the permissions it carries."""

    name = StringField("Name of the hat", validators=[DataRequired("Enter the hat's name."), Length(max=60)])
    description = StringField("What the hat is for (optional)", validators=[Optional(), Length(max=300)])
    permissions = SelectMultipleField("What the wearer may do", choices=[
        SelectChoice(p.value, words) for p, words in PERMISSION_WORDS.items()],
        validators=[DataRequired("Tick at least one thing the wearer may do.")])
