"""WTForms for the account pages (CSRF comes with Flask-WTF; refusals by careteams.web.forms).
PasswordFields never send a password back to the browser."""

from wtforms import BooleanField, EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length

from careteams.auth.passwords import MIN_LENGTH
from careteams.web.forms import PageForm


class LoginForm(PageForm):
    email = EmailField("Email address", validators=[DataRequired("Enter your email address."), Email("Enter an email address like name@example.org.")])
    password = PasswordField("Password", validators=[DataRequired("Enter your password.")])
    remember = BooleanField("Keep me logged in on this device")


class SetPasswordForm(PageForm):
    password = PasswordField("New password", validators=[
        DataRequired("Enter a password."),
        Length(min=MIN_LENGTH, message=f"Use at least {MIN_LENGTH} characters."),
    ])
    confirm = PasswordField("Type the password again", validators=[
        DataRequired("Type the password again."), EqualTo("password", "The two passwords are not the same."),
    ])


class ResetRequestForm(PageForm):
    email = EmailField("Email address", validators=[DataRequired("Enter your email address."), Email("Enter an email address like name@example.org.")])


class SecondFactorForm(PageForm):
    code = StringField("Code", validators=[DataRequired("Enter the 6-digit code from your authenticator app.")])


class EnrolForm(PageForm):
    code = StringField("Code from your app", validators=[DataRequired("Enter the 6-digit code your app shows.")])
