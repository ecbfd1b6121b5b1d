"""The sms pages: your notices on the website, and the development text simulator."""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_login import login_required

from careteams.auth.current import current_person
from careteams.errors import NotFound
from careteams.extensions import db
from careteams.sms import services
from careteams.sms.forms import SimulateForm
from careteams.web.forms import refused

# Not "sms": that name belongs to Twilio's webhooks in views.py.
bp = Blueprint("sms_pages", __name__)


# --- notices on the website ----------------------------------------------------


@bp.route("/my/notices")
@login_required
def my_notices():
    """What the co-op told you on the website (instead of texts, or after STOP)."""
    return render_template("sms/my_notices.html", notices=services.web_notices(current_person()))


# --- development only ---------------------------------------------------------


def _development_only() -> None:
    if current_app.config.get("ENV") != "development":
        raise NotFound()


@bp.route("/dev/sms", methods=["GET", "POST"])
def simulate():
    """Text the app as if from a phone, through the same service as the webhook."""
    _development_only()
    form = SimulateForm(data={"from_number": request.args.get("from", ""), "to_number": request.args.get("to", "")}
                        if request.method == "GET" else None)
    if form.validate_on_submit():
        to_number = form.to_number.data or services.default_simulation_number() or ""
        with refused(form, rename={"from": "from_number", "to": "to_number"}) as outcome:
            services.receive_text(services.simulated_sid(), form.from_number.data, to_number, form.body.data)
        if outcome.ok:
            db.session.commit()
            return redirect(url_for("sms_pages.simulate", **{"from": form.from_number.data, "to": to_number}))
    number = form.from_number.data
    lines = services.conversation(number) if number else []
    return render_template("sms/simulate.html", form=form, lines=lines), form.status
