"""Flask-WTF forms for the governance pages; refused input is shown back through
careteams.web.forms. The app checks every browser POST's CSRF token before the
route runs (careteams/app.py), so these forms do not check it again: API clients
with a bearer token post the same pages."""

from __future__ import annotations

from wtforms import RadioField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired

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
