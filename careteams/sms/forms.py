"""The development simulator's form."""

from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional


class SimulateForm(FlaskForm):
    from_number = StringField("From (the phone texting in)", validators=[DataRequired("Enter the number texting in.")])
    to_number = StringField("To (the co-op's number; blank for the first co-op)", validators=[Optional()])
    body = TextAreaField("Message", validators=[DataRequired("Type a message."), Length(max=1600)])
