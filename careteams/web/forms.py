"""One way for every page to refuse a form: keep what was typed, say what is wrong
beside the field, in plain words, and answer 422 (or 409).

    form = LogHoursForm()
    if form.validate_on_submit():
        with refused(form) as outcome:
            timesheets.log_entry(actor, ...)
        if outcome.ok:
            db.session.commit()
            return redirect(...)
    return render_template("...", form=form), form.status

`refused` catches the services' ValidationError (422, details.fields) and Conflict
(409), rolls the session back, and puts each field's messages on the form field of
the same name (or of the name given in `rename`); messages for names the form has
not, and a refusal without fields, become form-level errors (`form.form_errors`).
Templates show them with the macros in templates/_forms.html (error summary at the
top, each message beside its field and tied to it by aria-describedby).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

from flask_wtf import FlaskForm

from careteams.errors import Conflict, ValidationError
from careteams.extensions import db

# Stock messages of marshmallow and WTForms, said plainly. "{label}" is the field's
# label in lower case ("the title" reads better than "Title"), "{n}", "{a}", "{b}"
# the numbers the stock message carried.
PLAIN_WORDS: dict[str, str] = {
    # marshmallow
    "Missing data for required field.": "Enter {label}.",
    "Field may not be null.": "Enter {label}.",
    "Not a valid integer.": "Enter a whole number.",
    "Not a valid number.": "Enter a number.",
    "Not a valid string.": "Enter {label} as text.",
    "Not a valid email address.": "Enter an email address like name@example.org.",
    "Not a valid date.": "Enter a real date.",
    "Not a valid datetime.": "Enter a real date and time.",
    "Not a valid time.": "Enter a time like 10:05.",
    "Not a valid boolean.": "Choose yes or no.",
    "Not a valid list.": "Enter {label}.",
    "Invalid input type.": "Enter {label} as text.",
    "Unknown field.": "We did not expect {label}: leave it out.",
    # WTForms
    "This field is required.": "Enter {label}.",
    "Not a valid integer value.": "Enter a whole number.",
    "Not a valid float value.": "Enter a number.",
    "Not a valid decimal value.": "Enter a number.",
    "Not a valid date value.": "Enter a real date.",
    "Not a valid datetime value.": "Enter a real date and time.",
    "Not a valid time value.": "Enter a time like 10:05.",
    "Not a valid choice.": "Choose one of the options.",
    "Invalid email address.": "Enter an email address like name@example.org.",
    "Invalid input.": "Check {label}: it is not in the expected form.",
}

# Stock messages with numbers in them: (pattern, plain words).
PLAIN_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^Length must be between 1 and (?P<b>\d+)\.$"), "Enter {label} (up to {b} characters)."),
    (re.compile(r"^Length must be between (?P<a>\d+) and (?P<b>\d+)\.$"), "Enter between {a} and {b} characters."),
    (re.compile(r"^Shorter than minimum length 1\.$"), "Enter {label}."),
    (re.compile(r"^Shorter than minimum length (?P<n>\d+)\.$"), "Enter at least {n} characters."),
    (re.compile(r"^Longer than maximum length (?P<n>\d+)\.$"), "Enter {n} characters or fewer."),
    (re.compile(r"^Must be greater than or equal to (?P<a>[-\d.]+) and less than or equal to (?P<b>[-\d.]+)\.$"),
     "Enter a number from {a} to {b}."),
    (re.compile(r"^Must be greater than or equal to (?P<n>[-\d.]+)\.$"), "Enter a number of at least {n}."),
    (re.compile(r"^Must be less than or equal to (?P<n>[-\d.]+)\.$"), "Enter a number no bigger than {n}."),
    (re.compile(r"^Must be one of: .*\.$"), "Choose one of the options."),
    (re.compile(r"^'.*' (is not a valid choice|are not valid choices) for this field\.$"), "Choose from the options."),
    (re.compile(r"^Field must be between (?P<a>\d+) and (?P<b>\d+) characters long\.$"),
     "Enter between {a} and {b} characters."),
    (re.compile(r"^Field cannot be longer than (?P<n>\d+) characters?\.$"), "Enter {n} characters or fewer."),
    (re.compile(r"^Field must be at least (?P<n>\d+) characters? long\.$"), "Enter at least {n} characters."),
    (re.compile(r"^Number must be between (?P<a>[-\d.]+) and (?P<b>[-\d.]+)\.$"), "Enter a number from {a} to {b}."),
    (re.compile(r"^Number must be at least (?P<n>[-\d.]+)\.$"), "Enter a number of at least {n}."),
    (re.compile(r"^Number must be at most (?P<n>[-\d.]+)\.$"), "Enter a number no bigger than {n}."),
]

_OPTIONAL = re.compile(r"\s*\((optional|[^)]*only)\)\s*$", re.IGNORECASE)


def _label_words(label: str | None) -> str:
    """A field's label as it reads inside a sentence: "Team name (optional)" -> "the team name"."""
    text = _OPTIONAL.sub("", (label or "").strip()).rstrip(":?")
    if not text:
        return "a value"
    if text.split()[0].lower() in {"your", "their", "the", "a", "an", "how", "who", "why", "what", "when"}:
        return text[0].lower() + text[1:]
    return "the " + text[0].lower() + text[1:]


def plain(message: str, label: str | None = None) -> str:
    """A stock validation message in plain words; anything else (our own words) as it is."""
    message = str(message)
    template = PLAIN_WORDS.get(message)
    values: dict[str, str] = {}
    if template is None:
        for pattern, words in PLAIN_PATTERNS:
            found = pattern.match(message)
            if found:
                template, values = words, found.groupdict()
                break
    if template is None:
        return message
    text = template.format(label=_label_words(label), **values)
    return text[0].upper() + text[1:]


def _messages(value) -> list[str]:
    """Every message in a (possibly nested) marshmallow error value."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, Mapping):
        return [m for v in value.values() for m in _messages(v)]
    if isinstance(value, list | tuple):
        return [m for v in value for m in _messages(v)]
    return [str(value)]


def plain_fields(fields: Mapping, labels: Mapping[str, str] | None = None) -> dict[str, list[str]]:
    """A refusal's details.fields flattened to plain words per field (for pages that render values by hand)."""
    labels = labels or {}
    return {name: [plain(m, labels.get(name, str(name).replace("_", " "))) for m in _messages(value)]
            for name, value in (fields or {}).items()}


def place_errors(form: FlaskForm, error: ValidationError | Conflict, rename: Mapping[str, str] | None = None) -> int:
    """Put a refusal's messages on the form's fields (plain words); the status to answer with."""
    fields = (error.details or {}).get("fields") or {}
    rename = rename or {}
    placed = False
    for name, value in fields.items():
        target = rename.get(name, name)
        if isinstance(target, str) and target in form:
            field = form[target]
            field.errors = list(field.errors) + [plain(m, field.label.text) for m in _messages(value)]
            placed = True
        else:
            form.form_errors.extend(plain(m, str(name).replace("_", " ")) for m in _messages(value))
            placed = placed or bool(_messages(value))
    if not placed:
        form.form_errors.append(error.message)
    if isinstance(form, PageForm):
        form.refusal_status = error.status
    return error.status


@dataclass
class Outcome:
    """What `refused` saw: ok unless the service refused."""

    error: ValidationError | Conflict | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def status(self) -> int:
        return self.error.status if self.error else 200


@contextmanager
def refused(form: FlaskForm, rename: Mapping[str, str] | None = None) -> Iterator[Outcome]:
    """Run a service call; if it refuses the input (422) or the state (409), roll back and show why on the form."""
    outcome = Outcome()
    try:
        yield outcome
    except (ValidationError, Conflict) as error:
        db.session.rollback()
        outcome.error = error
        place_errors(form, error, rename)


def load(schema, data: Mapping) -> dict:
    """Parse a page's input with the API's marshmallow schema, so web and API refuse the
    same things; its refusal becomes a ValidationError that `refused` puts on the form."""
    from marshmallow import ValidationError as SchemaError

    try:
        return schema.load(data)
    except SchemaError as exc:
        raise ValidationError(details={"fields": exc.normalized_messages()}) from None


class PageForm(FlaskForm):
    """A page's form: its own checks speak plain words, and it knows the status to answer with."""

    refusal_status: int | None = None

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        for field in self:
            if isinstance(field.errors, list) and field.errors:
                field.errors = [plain(m, field.label.text) if isinstance(m, str) else m for m in field.errors]
        return valid

    def suffix_ids(self, suffix: object) -> PageForm:
        """Give each field an id unique on a page with one such form per item ("comment" -> "comment-12")."""
        for field in self:
            if field.type not in ("CSRFTokenField", "HiddenField"):
                field.id = f"{field.id}-{suffix}"
                field.label.field_id = field.id
        return self

    @property
    def status(self) -> int:
        """200 for a fresh form; the refusal's status (409) or 422 when it carries errors."""
        if self.refusal_status:
            return self.refusal_status
        return 422 if (self.errors or self.form_errors) else 200
