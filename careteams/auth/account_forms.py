"""WTForms for My account (careteams.auth.account_pages). Refusals go through
careteams.web.forms: the typed text is kept, the message sits beside the field.
PasswordFields never send a password back to the browser."""

from wtforms import EmailField, PasswordField, RadioField, StringField, TelField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, EqualTo, Length

from careteams.auth.passwords import MIN_LENGTH
from careteams.members.rules import Reach
from careteams.web.forms import PageForm


class NameForm(PageForm):
    name = StringField("Your name", validators=[DataRequired("Enter your name."), Length(max=200)])


class NewEmailForm(PageForm):
    email = EmailField("New email address", validators=[
        DataRequired("Enter your new email address."), Email("Enter an email address like name@example.org.")])


class NewPhoneForm(PageForm):
    phone = TelField("New mobile number", validators=[DataRequired("Enter your new mobile number.")])


class CodeForm(PageForm):
    code = StringField("The 6-digit code", validators=[DataRequired("Enter the code we sent you.")])


class ReachForm(PageForm):
    reach = RadioField("How should the co-op tell you things?", choices=[
        SelectChoice(Reach.text.value, "By text message"),
        SelectChoice(Reach.email.value, "By email"),
        SelectChoice(Reach.web.value, "Only on this website (notices on My notices)"),
    ], validators=[DataRequired("Choose how the co-op should tell you things.")])


class ChangePasswordForm(PageForm):
    current = PasswordField("Your current password", validators=[DataRequired("Enter your current password.")])
    password = PasswordField("New password", validators=[
        DataRequired("Enter a new password."),
        Length(min=MIN_LENGTH, message=f"Use at least {MIN_LENGTH} characters."),
    ])
    confirm = PasswordField("Type the new password again", validators=[
        DataRequired("Type the new password again."), EqualTo("password", "The two passwords are not the same."),
    ])


class ButtonForm(PageForm):
    """A form with only its CSRF token: a button that ends a session or revokes a token."""
