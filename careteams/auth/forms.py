"""WTForms for the account pages (CSRF comes with Flask-WTF; refusals by careteams.web.forms).
PasswordFields never send a password back to the browser."""

from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from careteams.auth.passwords import MIN_LENGTH
from careteams.auth.rules import clean_code, login_identifier
from careteams.web.forms import PageForm


def _identifier(form, field) -> None:
    try:
        login_identifier(field.data)
    except ValueError as error:
        raise ValidationError(str(error)) from None


def _code(form, field) -> None:
    if clean_code(field.data) is None:
        raise ValidationError("Enter the 6 numbers of the code, like 123456.")


def identifier_field() -> StringField:
    # Named "email" for the rate limits and the login helpers; it takes a mobile number too.
    return StringField("Email or mobile number", validators=[
        DataRequired("Enter your email address or mobile number."), _identifier])


class LoginForm(PageForm):
    email = identifier_field()
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
    email = identifier_field()


class CodeRequestForm(PageForm):
    email = identifier_field()


class CodeEnterForm(PageForm):
    code = StringField("Sign-in code", validators=[DataRequired("Enter the code we sent you."), _code])


class LinkSignInForm(PageForm):
    """Only a button (and CSRF): an emailed link signs in on a press, never on the
    GET itself, so a mail scanner opening the link does not spend it."""


class SecondFactorForm(PageForm):
    code = StringField("Code", validators=[DataRequired("Enter the 6-digit code from your authenticator app.")])


class EnrolForm(PageForm):
    code = StringField("Code from your app", validators=[DataRequired("Enter the 6-digit code your app shows.")])
