"""The shared form helper (careteams/web/forms.py): a refused form keeps what was
typed and says what is wrong beside the field, in plain words (issue 16)."""

from __future__ import annotations

import pytest
from flask import render_template_string
from wtforms import IntegerField, RadioField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from careteams.errors import Conflict, Forbidden, ValidationError
from careteams.web.forms import PLAIN_WORDS, PageForm, place_errors, plain, refused


class NoteForm(PageForm):
    class Meta:
        csrf = False

    title = StringField("Title", validators=[DataRequired(), Length(max=5)])
    minutes = IntegerField("Breaks (minutes)")


@pytest.fixture
def form(app):
    with app.test_request_context("/", method="POST", data={"title": "Too long a title", "minutes": "x"}):
        yield NoteForm()


def test_marshmallows_stock_messages_are_said_plainly():
    assert plain("Missing data for required field.", "Title") == "Enter the title."
    assert plain("Field may not be null.", "Your name") == "Enter your name."
    assert plain("Not a valid integer.") == "Enter a whole number."
    assert plain("Length must be between 1 and 4000.", "Text of the resolution") == \
        "Enter the text of the resolution (up to 4000 characters)."
    assert plain("Longer than maximum length 280.") == "Enter 280 characters or fewer."
    assert plain("Must be greater than or equal to 0 and less than or equal to 100.") == "Enter a number from 0 to 100."
    assert plain("Must be one of: ordinary, special.") == "Choose one of the options."
    assert plain("This field is required.", "Team name (optional)") == "Enter the team name."
    # Our own words pass through unchanged.
    assert plain("Use a time like 10:05.", "Start") == "Use a time like 10:05."
    # No stock message is left as it was.
    for stock in PLAIN_WORDS:
        assert plain(stock, "Title") != stock


def test_a_services_field_errors_land_on_the_fields_in_plain_words(form):
    error = ValidationError(details={"fields": {"title": ["Missing data for required field."],
                                                "minutes": ["Not a valid integer."]}})
    assert place_errors(form, error) == 422
    assert form.title.errors == ["Enter the title."]
    assert form.minutes.errors == ["Enter a whole number."]
    assert form.form_errors == [] and form.status == 422


def test_unknown_fields_and_nested_messages_become_form_level_errors(form):
    error = ValidationError(details={"fields": {"shift_id": ["That visit is not on the rota."],
                                                "sections": {"care": {"text": ["Longer than maximum length 10."]}}}})
    place_errors(form, error)
    assert form.form_errors == ["That visit is not on the rota.", "Enter 10 characters or fewer."]
    assert not form.title.errors


def test_a_renamed_field_gets_the_message(form):
    place_errors(form, ValidationError(details={"fields": {"expires_at": ["Not a valid datetime."]}}),
                 rename={"expires_at": "title"})
    assert form.title.errors == ["Enter a real date and time."]


def test_a_conflict_without_fields_is_said_above_the_form_with_409(form):
    with refused(form) as outcome:
        raise Conflict("Somebody else took that visit a moment ago.")
    assert not outcome.ok and outcome.status == 409
    assert form.form_errors == ["Somebody else took that visit a moment ago."]
    assert form.status == 409


def test_refused_lets_a_success_through_and_other_errors_out(form):
    with refused(form) as outcome:
        pass
    assert outcome.ok and outcome.status == 200 and form.status == 200
    with pytest.raises(Forbidden), refused(form):
        raise Forbidden()


def test_refused_rolls_back_what_the_service_flushed(app, form):
    from careteams.extensions import db
    from careteams.members.models import Cooperative
    from tests.factories import CooperativeFactory

    with refused(form) as outcome:
        coop = CooperativeFactory()
        coop_id = coop.id
        raise ValidationError(details={"fields": {"title": ["Taken."]}})
    assert not outcome.ok
    assert db.session.get(Cooperative, coop_id) is None


def test_the_forms_own_checks_speak_plain_words(form):
    assert not form.validate()
    assert form.title.errors == ["Enter 5 characters or fewer."]
    assert form.minutes.errors == ["Enter a whole number."]
    assert form.status == 422


TEMPLATE = """{% from "_forms.html" import field, error_summary, radios %}{{ error_summary(form) }}{{ field(form.title, hint="Short") }}"""


def test_the_macros_tie_each_message_to_its_field_and_keep_what_was_typed(form):
    place_errors(form, ValidationError(details={"fields": {"title": ["Missing data for required field."]},
                                                "other": 1}))
    form.form_errors.append("Nothing was saved.")
    html = render_template_string(TEMPLATE, form=form)
    assert 'id="title-error"' in html and "Enter the title." in html
    assert 'aria-describedby="title-hint title-error"' in html and 'aria-invalid="true"' in html
    assert 'value="Too long a title"' in html
    # The summary links to the field and carries the form-level message.
    assert '<a href="#title">Enter the title.</a>' in html and "<li>Nothing was saved.</li>" in html


class ChoiceForm(PageForm):
    class Meta:
        csrf = False

    outcome = RadioField("Settle it", choices=[SelectChoice("confirm", "Confirm as logged"), SelectChoice("void", "Void")])


def test_radios_are_a_fieldset_described_by_its_error(app):
    with app.test_request_context("/", method="POST", data={"outcome": "maybe"}):
        form = ChoiceForm()
        assert not form.validate()
        html = render_template_string('{% from "_forms.html" import radios %}{{ radios(form.outcome) }}', form=form)
    assert form.outcome.errors == ["Choose one of the options."]
    assert '<fieldset class="field field-error" aria-describedby="outcome-error">' in html
    assert "<legend>Settle it</legend>" in html and 'id="outcome-error"' in html
    # The first choice carries the field's id, so the error summary's link lands on it.
    assert 'id="outcome" name="outcome" type="radio" value="confirm"' in html
