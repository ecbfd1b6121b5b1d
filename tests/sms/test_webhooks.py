"""The Twilio webhooks: signatures, idempotency, TwiML replies, routing, opt-out and
the command registry."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
import sqlalchemy as sa

from careteams.errors import Forbidden
from careteams.extensions import db
from careteams.members.models import MembershipStatus
from careteams.sms import services
from careteams.sms.commands import sms_command
from careteams.sms.models import InboundMessage, OutboundMessage, SmsOptOut
from careteams.sms.rules import TEMPLATES, DeliveryStatus, render
from tests.factories import CooperativeFactory, MembershipFactory, PersonFactory, StaffRoleFactory
from tests.sms.conftest import post_signed, sign

COOP_NUMBER = "+447700900001"
WORKER_NUMBER = "+447700900123"
_sid = iter(range(1, 10**9))


def new_sid() -> str:
    return f"SM{next(_sid):032x}"


def text(body, *, sid=None, from_=WORKER_NUMBER, to=COOP_NUMBER) -> dict:
    return {"MessageSid": sid or new_sid(), "AccountSid": "AC" + "0" * 32, "From": from_, "To": to,
            "Body": body, "NumMedia": "0"}


def reply_of(response) -> str:
    """The reply in a TwiML answer (and proof that it is well-formed TwiML)."""
    assert response.status_code == 200
    assert response.mimetype == "text/xml"
    root = ET.fromstring(response.get_data(as_text=True))
    assert root.tag == "Response"
    assert all(child.tag == "Message" for child in root)
    return "\n".join(m.text or "" for m in root.iter("Message"))


@pytest.fixture
def worker(app):
    coop = CooperativeFactory(sms_number=COOP_NUMBER, name="Valley Care")
    person = PersonFactory(phone=WORKER_NUMBER, name="Wendy Ali")
    MembershipFactory(cooperative=coop, person=person)
    return person


def _count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


# --- signatures ---------------------------------------------------------------


def test_a_signed_text_is_answered_with_twiml(client, worker):
    response = post_signed(client, "/sms/inbound", text("HELP"))
    assert reply_of(response) == TEMPLATES["help"]


def test_a_forged_signature_is_refused_and_nothing_is_recorded(client, worker):
    params = text("HELP")
    forged = sign("http://localhost/sms/inbound", params, token="not-the-auth-token")
    response = client.post("/sms/inbound", data=params, headers={"X-Twilio-Signature": forged})
    assert response.status_code == 403
    assert _count(InboundMessage) == 0


def test_a_missing_signature_is_refused(client, worker):
    response = client.post("/sms/inbound", data=text("HELP"))
    assert response.status_code == 403
    assert _count(InboundMessage) == 0


@pytest.mark.parametrize("change", [
    {"Body": "STOP"},  # the same signature replayed over a different message
    {"From": "+447700900999"},
    {"MessageSid": "SM" + "f" * 32},
    {"Extra": "1"},
])
def test_a_replayed_signature_with_changed_params_is_refused(client, worker, change):
    params = text("HELP")
    signature = sign("http://localhost/sms/inbound", params)
    response = client.post("/sms/inbound", data={**params, **change}, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 403
    assert _count(InboundMessage) == 0 and _count(SmsOptOut) == 0


def test_a_signature_for_another_url_is_refused(client, worker):
    params = text("HELP")
    signature = sign("http://localhost/sms/status", params)
    response = client.post("/sms/inbound", data=params, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 403


def test_signatures_are_checked_in_debug_mode_too(app, client, worker):
    app.debug = True
    app.config["ENV"] = "development"
    response = client.post("/sms/inbound", data=text("HELP"), headers={"X-Twilio-Signature": "x"})
    assert response.status_code == 403


def test_without_an_auth_token_every_request_is_refused(app, client, worker):
    app.config["TWILIO_AUTH_TOKEN"] = None
    response = post_signed(client, "/sms/inbound", text("HELP"))
    assert response.status_code == 403


def test_behind_a_proxy_the_public_base_url_is_what_is_checked(app, client, worker):
    # TLS ends at the proxy: Twilio signed https://care.example.org/..., we see http://localhost/...
    app.config["PUBLIC_BASE_URL"] = "https://care.example.org"
    params = text("HELP")
    response = post_signed(client, "/sms/inbound", params, url="https://care.example.org/sms/inbound")
    assert reply_of(response) == TEMPLATES["help"]
    internal = post_signed(client, "/sms/inbound", text("HELP"), url="http://localhost/sms/inbound")
    assert internal.status_code == 403


def test_behind_a_proxy_proxyfix_rebuilds_the_public_url(database_url):
    from tests.conftest import make_app

    app = make_app(database_url, PROXY_FIX_COUNT=1)
    client = app.test_client()
    params = text("HELP", from_="+447700900555")
    headers = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "care.example.org"}
    with app.app_context():
        response = post_signed(client, "/sms/inbound", params, url="https://care.example.org/sms/inbound",
                               headers=headers)
        assert response.status_code == 200
        assert reply_of(response) == TEMPLATES["unknown_sender"]
        db.session.rollback()
        db.session.execute(sa.delete(InboundMessage).where(InboundMessage.message_sid == params["MessageSid"]))
        db.session.commit()
        db.engine.dispose()


def test_the_webhooks_need_no_csrf_token(client, worker):
    assert post_signed(client, "/sms/inbound", text("HELP")).status_code == 200


# --- idempotency ----------------------------------------------------------------


def test_the_same_message_sid_three_times_has_one_effect(client, worker, handlers):
    calls = []

    @sms_command("shifts")
    def shifts(ctx, command):
        calls.append(command)
        services.enqueue(ctx.cooperative, ctx.person, "Your next shifts: none", "rota.shifts")
        return "You have no shifts booked."

    params = text("SHIFTS")
    replies = [reply_of(post_signed(client, "/sms/inbound", params)) for _ in range(3)]
    assert replies == ["You have no shifts booked."] * 3
    assert len(calls) == 1
    assert _count(InboundMessage) == 1
    assert _count(OutboundMessage) == 1


def test_a_repeated_stop_is_recorded_once(client, worker):
    params = text("STOP")
    for _ in range(3):
        post_signed(client, "/sms/inbound", params)
    assert _count(SmsOptOut) == 1 and _count(InboundMessage) == 1


# --- who is texting -------------------------------------------------------------


def test_an_unknown_number_gets_a_polite_generic_reply(client, worker):
    reply = reply_of(post_signed(client, "/sms/inbound", text("Y 482", from_="+447700900555")))
    assert reply == TEMPLATES["unknown_sender"]
    assert "Valley" not in reply and "Wendy" not in reply


def test_a_person_with_no_place_in_this_coop_is_treated_as_unknown(client, worker):
    CooperativeFactory(sms_number="+447700900002", name="Other Co-op")
    reply = reply_of(post_signed(client, "/sms/inbound", text("HELP", to="+447700900002")))
    assert reply == TEMPLATES["unknown_sender"]


def test_a_person_who_left_the_register_is_unknown(client, worker):
    from careteams.members.models import Membership

    membership = db.session.scalar(sa.select(Membership).where(Membership.person_id == worker.id))
    membership.status = MembershipStatus.left
    db.session.flush()
    assert reply_of(post_signed(client, "/sms/inbound", text("HELP"))) == TEMPLATES["unknown_sender"]


def test_staff_of_the_coop_are_recognised(client, app):
    coop = CooperativeFactory(sms_number=COOP_NUMBER)
    StaffRoleFactory(cooperative=coop, person=PersonFactory(phone="+447700900444"))
    reply = reply_of(post_signed(client, "/sms/inbound", text("HELP", from_="+447700900444")))
    assert reply == TEMPLATES["help"]


def test_an_inactive_account_is_unknown(client, worker):
    worker.active = False
    db.session.flush()
    assert reply_of(post_signed(client, "/sms/inbound", text("HELP"))) == TEMPLATES["unknown_sender"]


def test_a_sender_in_national_format_is_recognised(client, worker):
    reply = reply_of(post_signed(client, "/sms/inbound", text("HELP", from_="07700 900123")))
    assert reply == TEMPLATES["help"]


def test_the_inbound_text_is_logged_with_coop_person_and_reply(client, worker):
    params = text("help")
    post_signed(client, "/sms/inbound", params)
    row = db.session.scalar(sa.select(InboundMessage))
    assert (row.message_sid, row.person_id, row.verb, row.reply) == (
        params["MessageSid"], worker.id, "help", TEMPLATES["help"])


def test_missing_fields_are_a_422_not_a_500(client, worker):
    params = {"AccountSid": "AC" + "0" * 32, "Body": "HELP"}
    assert post_signed(client, "/sms/inbound", params).status_code == 422


# --- commands and the registry ----------------------------------------------------


@pytest.mark.parametrize("body", ["what?", "HELP", "info", ""])
def test_help_and_anything_unrecognised_get_the_help_text(client, worker, body):
    assert reply_of(post_signed(client, "/sms/inbound", text(body))) == TEMPLATES["help"]


@pytest.mark.parametrize("body, feature", [
    ("Y 482", "taking shifts"), ("NO 482", "saying no to shifts"), ("SHIFTS", "listing shifts"),
    ("COVER 482", "asking for cover"), ("HERE 482", "checking in"), ("DONE 482 10:00-13:00", "logging hours"),
])
def test_without_a_handler_the_reply_says_not_available_yet(client, worker, handlers, body, feature):
    handlers.clear()
    reply = reply_of(post_signed(client, "/sms/inbound", text(body)))
    assert reply == render("not_available", feature=feature)


def test_a_registered_handler_gets_the_parsed_command_and_who_sent_it(client, worker, handlers):
    seen = {}

    @sms_command("accept")
    def accept(ctx, command):
        seen.update(person=ctx.person.id, coop=ctx.cooperative.sms_number, code=command.code,
                    actor=ctx.actor.person_id)
        return render("booked", when="Tue 3 Dec 10:00-13:00", team="Ann's team", code=command.code)

    reply = reply_of(post_signed(client, "/sms/inbound", text("yes 482")))
    assert reply == "Booked: Tue 3 Dec 10:00-13:00 with Ann's team. Reply COVER 482 if you can't make it."
    assert seen == {"person": worker.id, "coop": COOP_NUMBER, "code": "482", "actor": worker.id}


def test_a_refused_handler_changes_nothing_and_reveals_nothing(client, worker, handlers):
    @sms_command("cover")
    def cover(ctx, command):
        services.enqueue(ctx.cooperative, ctx.person, "half-done work", "rota.cover")
        raise Forbidden()

    reply = reply_of(post_signed(client, "/sms/inbound", text("COVER 999")))
    assert reply == TEMPLATES["not_found"]
    assert _count(OutboundMessage) == 0
    assert _count(InboundMessage) == 1  # the text itself is still logged


def test_codes_are_required_where_they_matter(client, worker, handlers):
    called = []
    sms_command("here")(lambda ctx, command: called.append(1) or "ok")
    assert reply_of(post_signed(client, "/sms/inbound", text("HERE"))) == render("missing_code", keyword="HERE")
    assert called == []


def test_cancel_with_a_code_points_at_cover_and_does_not_opt_out(client, worker):
    assert reply_of(post_signed(client, "/sms/inbound", text("cancel 482"))) == TEMPLATES["cancel_hint"]
    assert _count(SmsOptOut) == 0


def test_a_verb_cannot_be_registered_twice_or_outside_the_dispatched_set(handlers):
    @sms_command("decline")
    def one(ctx, command):
        return ""

    with pytest.raises(RuntimeError):
        @sms_command("decline")
        def two(ctx, command):
            return ""

    with pytest.raises(ValueError):
        sms_command("stop")


# --- opt-out -----------------------------------------------------------------------


def test_stop_records_the_opt_out_and_gets_the_required_reply(client, worker):
    reply = reply_of(post_signed(client, "/sms/inbound", text("Stop")))
    assert reply == TEMPLATES["opted_out"]
    assert services.is_opted_out(WORKER_NUMBER, worker, COOP_NUMBER)


@pytest.mark.parametrize("word", ["STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"])
def test_every_twilio_opt_out_word_opts_out(client, worker, word):
    post_signed(client, "/sms/inbound", text(word))
    assert services.is_opted_out(WORKER_NUMBER, worker, COOP_NUMBER)


def test_while_opted_out_nothing_else_is_answered_or_done(client, worker, handlers):
    called = []
    sms_command("shifts")(lambda ctx, command: called.append(1) or "your shifts")
    post_signed(client, "/sms/inbound", text("STOP"))
    assert reply_of(post_signed(client, "/sms/inbound", text("SHIFTS"))) == ""
    assert reply_of(post_signed(client, "/sms/inbound", text("Y 482"))) == ""
    assert called == []
    # HELP still gets the legally required answer, which says how to come back.
    assert reply_of(post_signed(client, "/sms/inbound", text("HELP"))) == TEMPLATES["opted_out_help"]
    queued = services.enqueue(None, worker, "A reminder", "test", from_number=COOP_NUMBER)
    assert queued.status == DeliveryStatus.skipped


@pytest.mark.parametrize("word", ["START", "unstop", "YES"])
def test_start_unstop_and_a_lone_yes_opt_back_in(client, worker, handlers, word):
    called = []
    sms_command("accept")(lambda ctx, command: called.append(1) or "booked")
    post_signed(client, "/sms/inbound", text("STOP"))
    assert reply_of(post_signed(client, "/sms/inbound", text(word))) == TEMPLATES["opted_in"]
    assert not services.is_opted_out(WORKER_NUMBER, worker, COOP_NUMBER)
    assert called == []  # a YES that opted someone in did not also accept a shift


def test_a_lone_yes_from_someone_opted_in_is_an_acceptance(client, worker, handlers):
    sms_command("accept")(lambda ctx, command: f"accept code={command.code}")
    assert reply_of(post_signed(client, "/sms/inbound", text("YES"))) == "accept code=None"


def test_stop_from_an_unknown_number_is_honoured_and_reveals_nothing(client, worker):
    reply = reply_of(post_signed(client, "/sms/inbound", text("STOP", from_="+447700900555")))
    assert reply == TEMPLATES["opted_out"]
    assert services.is_opted_out("+447700900555", sender=COOP_NUMBER)
    assert services.enqueue(None, "+447700900555", "hi", "test", from_number=COOP_NUMBER).status == DeliveryStatus.skipped
    # Per sender number, as Twilio's own opt-out: the fallback number was not told STOP.
    assert services.enqueue(None, "+447700900555", "hi", "test").status == DeliveryStatus.pending


# --- the status callback ------------------------------------------------------------


def _status(message_id, sid, status, error_code=None):
    params = {"MessageSid": sid, "MessageStatus": status, "AccountSid": "AC" + "0" * 32}
    if error_code:
        params["ErrorCode"] = error_code
    return params, f"/sms/status?outbound={message_id}"


def test_status_callbacks_move_delivery_forward_only(app, client, twilio_http):
    from careteams.db import utcnow
    from careteams.sms.jobs import send_outbox

    message = services.enqueue(None, PersonFactory(phone="+447700900123"), "Hi", "test")
    send_outbox(utcnow())
    db.session.refresh(message)
    for status in ("sent", "delivered", "sent"):
        params, path = _status(message.id, message.sid, status)
        assert post_signed(client, path, params).status_code == 204
    db.session.refresh(message)
    assert message.status == DeliveryStatus.delivered


def test_a_status_callback_settles_an_unknown_send(app, client, twilio_http):
    from careteams.db import utcnow
    from careteams.sms.jobs import send_outbox
    from tests.sms.conftest import read_timeout

    twilio_http.script = [read_timeout()]
    message = services.enqueue(None, PersonFactory(phone="+447700900123"), "Hi", "test")
    send_outbox(utcnow())
    db.session.refresh(message)
    assert message.status == DeliveryStatus.unknown
    params, path = _status(message.id, "SM" + "a" * 32, "delivered")
    assert post_signed(client, path, params).status_code == 204
    db.session.refresh(message)
    assert (message.status, message.sid) == (DeliveryStatus.delivered, "SM" + "a" * 32)


def test_a_failed_callback_with_21610_records_the_opt_out(app, client, twilio_http):
    from careteams.db import utcnow
    from careteams.sms.jobs import send_outbox

    person = PersonFactory(phone="+447700900123")
    message = services.enqueue(None, person, "Hi", "test")
    send_outbox(utcnow())
    db.session.refresh(message)
    params, path = _status(message.id, message.sid, "failed", "21610")
    post_signed(client, path, params)
    db.session.refresh(message)
    assert (message.status, message.error_code) == (DeliveryStatus.failed, "21610")
    assert services.is_opted_out("+447700900123", person)


def test_a_forged_status_callback_is_refused(app, client, twilio_http):
    from careteams.db import utcnow
    from careteams.sms.jobs import send_outbox

    message = services.enqueue(None, PersonFactory(), "Hi", "test")
    send_outbox(utcnow())
    db.session.refresh(message)
    params, path = _status(message.id, message.sid, "failed")
    signature = sign(f"http://localhost{path}", params, token="forged")
    assert client.post(path, data=params, headers={"X-Twilio-Signature": signature}).status_code == 403
    # The outbound id is part of the signed URL: moving a signature to another message fails.
    good = sign(f"http://localhost{path}", params)
    assert client.post(f"/sms/status?outbound={message.id + 1}", data=params,
                       headers={"X-Twilio-Signature": good}).status_code == 403
    db.session.refresh(message)
    assert message.status == DeliveryStatus.queued


def test_a_callback_for_a_different_sid_is_ignored(app, client, twilio_http):
    from careteams.db import utcnow
    from careteams.sms.jobs import send_outbox

    message = services.enqueue(None, PersonFactory(), "Hi", "test")
    send_outbox(utcnow())
    params, path = _status(message.id, "SM" + "b" * 32, "failed")
    assert post_signed(client, path, params).status_code == 204
    db.session.refresh(message)
    assert message.status == DeliveryStatus.queued


@pytest.mark.parametrize("status, recognised", [
    ("active", True), ("trial", True), ("invited", True), ("left", False), ("declined", False),
])
def test_team_members_are_recognised_while_their_place_is_current(client, app, status, recognised):
    from careteams.teams.models import Team, TeamMember, TeamMemberStatus, TeamRole

    coop = CooperativeFactory(sms_number=COOP_NUMBER)
    leader = PersonFactory()
    team = Team(cooperative_id=coop.id, leader_id=leader.id, display_name="Ann")
    db.session.add(team)
    db.session.flush()
    volunteer = PersonFactory(phone="+447700900333")  # in a team, not in the register
    db.session.add(TeamMember(team_id=team.id, person_id=volunteer.id, role=TeamRole.volunteer,
                              status=TeamMemberStatus(status)))
    db.session.flush()
    reply = reply_of(post_signed(client, "/sms/inbound", text("HELP", from_="+447700900333")))
    assert reply == (TEMPLATES["help"] if recognised else TEMPLATES["unknown_sender"])
    # The leader of a team in this co-op is recognised too.
    leader.phone = "+447700900334"
    db.session.flush()
    assert reply_of(post_signed(client, "/sms/inbound", text("HELP", from_="+447700900334"))) == TEMPLATES["help"]
