"""The development simulator's form."""

from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from careteams.web.forms import PageForm


class SimulateForm(PageForm):
    from_number = StringField("From (the phone texting in)", validators=[DataRequired("Enter the number texting in.")])
    to_number = StringField("To (the co-op's number; blank for the first co-op)", validators=[Optional()])
    body = TextAreaField("Message", validators=[DataRequired("Type a message."), Length(max=1600)])
